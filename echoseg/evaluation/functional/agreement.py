"""Agreement of paired measurements (predicted vs reference EF, volumes, per-case scores).

Pairs where either value is NaN or infinite are dropped first; ``n`` counts the pairs used.

- ``corr``: Pearson r; NaN with fewer than 2 pairs or a constant series.
- ``bias`` = mean(pred - ref); ``sd`` = sample standard deviation of pred - ref (ddof=1);
  limits of agreement ``loa_low, loa_high = bias -/+ 1.96 sd`` (Bland & Altman, 1986).
- ``mae`` = mean |pred - ref|.
- Wilcoxon signed-rank test of paired scores (``scipy.stats.wilcoxon``, two-sided, zero
  differences dropped); with no non-zero difference there is no evidence of a difference,
  reported as statistic 0, p = 1.
"""
from typing import Dict

import numpy as np
from scipy import stats


def paired_finite(a, b):
    """The two arrays restricted to the pairs where both values are finite."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f'paired values need the same length, got {a.size} and {b.size}')
    ok = np.isfinite(a) & np.isfinite(b)
    return a[ok], b[ok]


def pearson_r(pred, ref) -> float:
    """Pearson correlation of the finite pairs (NaN when undefined)."""
    p, r = paired_finite(pred, ref)
    if p.size < 2 or np.ptp(p) == 0 or np.ptp(r) == 0:
        return float('nan')
    return float(stats.pearsonr(p, r)[0])


def agreement_stats(pred, ref) -> Dict[str, float]:
    """``{'n', 'corr', 'bias', 'sd', 'loa_low', 'loa_high', 'mae'}`` of pred vs ref."""
    p, r = paired_finite(pred, ref)
    nan = float('nan')
    out = dict(n=float(p.size), corr=pearson_r(p, r), bias=nan, sd=nan, loa_low=nan,
               loa_high=nan, mae=nan)
    if p.size == 0:
        return out
    diff = p - r
    out['bias'] = float(diff.mean())
    out['mae'] = float(np.abs(diff).mean())
    if p.size >= 2:
        sd = float(diff.std(ddof=1))
        out.update(sd=sd, loa_low=out['bias'] - 1.96 * sd, loa_high=out['bias'] + 1.96 * sd)
    return out


def wilcoxon_signed_rank(a, b) -> Dict[str, float]:
    """Two-sided Wilcoxon signed-rank test of paired scores a vs b.

    Returns ``{'n', 'statistic', 'pvalue', 'mean_diff', 'median_diff'}`` (diff = a - b).
    """
    x, y = paired_finite(a, b)
    diff = x - y
    out = dict(n=float(x.size), statistic=0.0, pvalue=1.0,
               mean_diff=float(diff.mean()) if diff.size else float('nan'),
               median_diff=float(np.median(diff)) if diff.size else float('nan'))
    if x.size == 0:
        out['pvalue'] = float('nan')
        return out
    if not np.any(diff != 0):
        return out
    res = stats.wilcoxon(x, y, zero_method='wilcox', alternative='two-sided')
    out.update(statistic=float(res.statistic), pvalue=float(res.pvalue))
    return out
