import numpy as np
import pytest
from scipy import stats

from echoseg.evaluation.functional import agreement_stats, pearson_r, wilcoxon_signed_rank


def test_agreement_matches_numpy_and_scipy():
    rng = np.random.default_rng(1)
    ref = rng.normal(55, 10, size=40)
    pred = ref + rng.normal(2.0, 4.0, size=40)
    out = agreement_stats(pred, ref)
    diff = pred - ref
    assert out['n'] == 40
    assert out['corr'] == pytest.approx(np.corrcoef(pred, ref)[0, 1])
    assert out['bias'] == pytest.approx(np.mean(diff))
    assert out['sd'] == pytest.approx(np.sqrt(np.sum((diff - diff.mean())**2) / 39))
    assert out['loa_low'] == pytest.approx(diff.mean() - 1.96 * out['sd'])
    assert out['loa_high'] == pytest.approx(diff.mean() + 1.96 * out['sd'])
    assert out['mae'] == pytest.approx(np.mean(np.abs(diff)))


def test_nan_pairs_are_dropped():
    pred = np.array([1.0, 2.0, np.nan, 4.0, 5.0])
    ref = np.array([1.5, 2.0, 3.0, np.inf, 4.0])
    out = agreement_stats(pred, ref)
    assert out['n'] == 3
    assert out['bias'] == pytest.approx(np.mean([-0.5, 0.0, 1.0]))
    assert out['corr'] == pytest.approx(stats.pearsonr([1, 2, 5], [1.5, 2, 4])[0])


def test_degenerate_inputs():
    assert np.isnan(pearson_r([1, 1, 1], [1, 2, 3]))
    one = agreement_stats([3.0], [1.0])
    assert one['bias'] == 2.0 and np.isnan(one['sd']) and np.isnan(one['corr'])
    none = agreement_stats([np.nan], [1.0])
    assert none['n'] == 0 and np.isnan(none['bias'])
    with pytest.raises(ValueError):
        agreement_stats([1, 2], [1, 2, 3])


def test_wilcoxon_matches_scipy():
    rng = np.random.default_rng(2)
    a = rng.uniform(0.85, 0.95, size=30)
    b = a - rng.normal(0.01, 0.01, size=30)
    out = wilcoxon_signed_rank(a, b)
    ref = stats.wilcoxon(a, b)
    assert out['statistic'] == pytest.approx(ref.statistic)
    assert out['pvalue'] == pytest.approx(ref.pvalue)
    assert out['mean_diff'] == pytest.approx(np.mean(a - b))
    same = wilcoxon_signed_rank(a, a)
    assert same['pvalue'] == 1.0 and same['n'] == 30
