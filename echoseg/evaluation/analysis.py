"""Comparisons and tables from EchoMetric dumps (see ``results_io``)."""
from typing import Dict, List, Optional, Sequence

import numpy as np

from .functional import agreement_stats, wilcoxon_signed_rank

#: (column title, summary key, per-row key, scale, format) of the papers' style table
TABLE_COLUMNS = (
    ('mDice (%)', 'mDice', 'dice', 100.0, '{:.2f}'),
    ('mIoU (%)', 'mIoU', 'iou', 100.0, '{:.2f}'),
    ('mHD95', 'mHD95', 'hd95', 1.0, '{:.2f}'),
    ('mASD', 'mASD', 'asd', 1.0, '{:.2f}'),
    ('EF corr', 'EF_corr', None, 1.0, '{:.3f}'),
    ('EF bias', 'EF_bias', None, 1.0, '{:.2f}'),
    ('EF sd', 'EF_sd', None, 1.0, '{:.2f}'),
    ('EF MAE', 'EF_MAE', None, 1.0, '{:.2f}'),
)


def paired_comparison(results_a: Dict, results_b: Dict, key: str = 'dice') -> Dict:
    """Per-clip ``key`` of two dumps paired by ``video_id``: means, the mean and median of
    a - b, and the two-sided Wilcoxon signed-rank test."""
    a = {str(c['video_id']): float(c.get(key, np.nan)) for c in results_a['clips']}
    b = {str(c['video_id']): float(c.get(key, np.nan)) for c in results_b['clips']}
    common = sorted(set(a) & set(b))
    xa = np.array([a[v] for v in common])
    xb = np.array([b[v] for v in common])
    test = wilcoxon_signed_rank(xa, xb)
    ok = np.isfinite(xa) & np.isfinite(xb)
    return dict(key=key, n=test['n'],
                mean_a=float(xa[ok].mean()) if ok.any() else float('nan'),
                mean_b=float(xb[ok].mean()) if ok.any() else float('nan'),
                mean_diff=test['mean_diff'], median_diff=test['median_diff'],
                statistic=test['statistic'], pvalue=test['pvalue'],
                only_in_a=sorted(set(a) - set(b)), only_in_b=sorted(set(b) - set(a)))


def summary_row(results: Dict) -> Dict[str, float]:
    """The table's numbers: the dump's summary when it has one; otherwise recomputed from
    the rows (segmentation scores as means over labelled frames, weighting each clip by
    its number of labelled frames; EF agreement from the EF cases)."""
    summary = results.get('summary') or {}
    out = {}
    clips = results.get('clips') or []
    weights = np.array([float(c.get('num_labelled', 1) or 0) for c in clips])
    for _, skey, rkey, _, _ in TABLE_COLUMNS:
        if skey in summary:
            out[skey] = float(summary[skey])
        elif rkey is not None and clips:
            vals = np.array([float(c.get(rkey, np.nan)) for c in clips])
            ok = np.isfinite(vals) & (weights > 0)
            out[skey] = (float(np.average(vals[ok], weights=weights[ok])) if ok.any()
                         else float('nan'))
    cases = results.get('ef_cases') or []
    if cases and 'EF_corr' not in summary:
        st = agreement_stats([c['ef_pred'] for c in cases], [c['ef_ref'] for c in cases])
        out.update(EF_corr=st['corr'], EF_bias=st['bias'], EF_sd=st['sd'], EF_MAE=st['mae'])
    return out


def results_table(named_results: Sequence, fmt: str = 'markdown',
                  distance_unit: Optional[str] = None) -> str:
    """A table with one row per ``(name, results)``: mDice, mIoU, mHD95, mASD and the EF
    agreement (corr, bias, sd, MAE). ``fmt``: ``'markdown'`` or ``'csv'``."""
    rows: List[List[str]] = []
    for name, results in named_results:
        nums = summary_row(results)
        cells = [str(name)]
        for _, skey, _, scale, form in TABLE_COLUMNS:
            v = nums.get(skey, float('nan'))
            cells.append(form.format(v * scale) if np.isfinite(v) else '-')
        rows.append(cells)
    if distance_unit is None:
        units = {str(c.get('distance_unit')) for _, res in named_results
                 for c in res.get('clips') or [] if c.get('distance_unit')}
        distance_unit = units.pop() if len(units) == 1 else None
    unit = f' ({distance_unit})' if distance_unit else ''
    header = ['method'] + [t + (unit if t in ('mHD95', 'mASD') else '')
                           for t, *_ in TABLE_COLUMNS]
    if fmt == 'csv':
        return '\n'.join(','.join(r) for r in [header] + rows) + '\n'
    if fmt != 'markdown':
        raise ValueError(f"fmt must be 'markdown' or 'csv', got {fmt!r}")
    lines = ['| ' + ' | '.join(header) + ' |',
             '|' + '|'.join(['---'] + ['---:'] * (len(header) - 1)) + '|']
    lines += ['| ' + ' | '.join(r) + ' |' for r in rows]
    return '\n'.join(lines) + '\n'
