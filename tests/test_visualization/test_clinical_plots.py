"""Regression and Bland-Altman plots: the lines drawn are the least-squares fit, the bias
and the limits of agreement computed here with numpy; files for each complete quantity."""
import os.path as osp

import numpy as np
import pytest
from matplotlib.figure import Figure
from scipy import stats

from echoseg.visualization.clinical_plots import (bland_altman_plot, regression_plot,
                                                  save_agreement_plots, save_figure)


def _pairs(n=15, seed=0):
    rng = np.random.default_rng(seed)
    ref = rng.uniform(30, 70, n)
    pred = 0.8 * ref + 9 + rng.normal(0, 3, n)
    pred[3], ref[4] = np.nan, np.inf        # two pairs that are not used
    return pred, ref


def _finite(pred, ref):
    ok = np.isfinite(pred) & np.isfinite(ref)
    return pred[ok], ref[ok]


def test_regression_plot_draws_the_fit_and_reports_r():
    pred, ref = _pairs()
    fig = regression_plot(pred, ref, quantity='EF', unit='%')
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    p, r = _finite(pred, ref)
    np.testing.assert_allclose(ax.collections[0].get_offsets(), np.c_[r, p])   # 13 points
    identity, fit = ax.lines
    xs = np.asarray(fit.get_xdata(), float)
    slope, icpt = np.polyfit(r, p, 1)
    np.testing.assert_allclose(fit.get_ydata(), slope * xs + icpt)
    np.testing.assert_allclose(identity.get_xdata(), identity.get_ydata())
    corr = stats.pearsonr(p, r)[0]
    assert ax.get_title() == f'EF: r = {corr:.3f} (n = 13)'
    assert ax.get_xlabel() == 'reference EF (%)' and ax.get_ylabel() == 'predicted EF (%)'
    lo, hi = ax.get_xlim()
    assert lo < min(p.min(), r.min()) and hi > max(p.max(), r.max())


def test_bland_altman_plot_draws_bias_and_limits():
    pred, ref = _pairs(seed=1)
    fig = bland_altman_plot(pred, ref, quantity='EDV', unit='ml', title='custom')
    ax = fig.axes[0]
    p, r = _finite(pred, ref)
    diff = p - r
    np.testing.assert_allclose(ax.collections[0].get_offsets(), np.c_[(p + r) / 2, diff])
    bias, sd = diff.mean(), diff.std(ddof=1)
    levels = sorted(float(line.get_ydata()[0]) for line in ax.lines)
    np.testing.assert_allclose(levels, sorted([bias, bias - 1.96 * sd, bias + 1.96 * sd, 0.0]))
    assert ax.get_title() == 'custom' and ax.get_ylabel() == 'predicted - reference EDV (ml)'
    lo, hi = ax.get_ylim()
    assert lo < min(diff.min(), bias - 1.96 * sd) and hi > max(diff.max(), bias + 1.96 * sd)


def test_too_few_pairs_draw_no_lines():
    fig = regression_plot([50.0], [55.0])
    assert len(fig.axes[0].lines) == 1                 # the identity, no fit
    ba = bland_altman_plot([50.0], [55.0]).axes[0]
    assert sorted(float(l.get_ydata()[0]) for l in ba.lines) == [-5.0, 0.0]   # bias only
    empty = bland_altman_plot([np.nan], [1.0]).axes[0]
    assert [float(l.get_ydata()[0]) for l in empty.lines] == [0.0]


def test_save_agreement_plots_writes_complete_quantities_only(tmp_path):
    pred, ref = _pairs(n=6)
    cases = [dict(ef_pred=p, ef_ref=q, edv_pred=100 + i, edv_ref=101 + i,
                  esv_pred=np.nan, esv_ref=40.0, volume_unit='ml')
             for i, (p, q) in enumerate(zip(pred, ref))]
    written = save_agreement_plots(cases, str(tmp_path / 'plots'), 'run')
    names = [osp.basename(p) for p in written]
    assert names == ['run_EF_regression.png', 'run_EF_bland_altman.png',
                     'run_EDV_regression.png', 'run_EDV_bland_altman.png']   # no ESV pair
    for path in written:
        with open(path, 'rb') as f:
            assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    svg = save_figure(regression_plot(pred, ref), str(tmp_path / 'r.svg'))
    assert open(svg).read(200).lstrip().startswith('<?xml')


@pytest.mark.parametrize('plot', [regression_plot, bland_altman_plot])
def test_plots_draw_into_a_given_axes(plot):
    fig = Figure()
    ax = fig.add_subplot(1, 2, 2)
    pred, ref = _pairs()
    assert plot(pred, ref, ax=ax) is fig and len(ax.collections) == 1
