"""Regression and Bland-Altman plots of predicted vs reference clinical values.

Built on ``matplotlib.figure.Figure`` with the Agg canvas, so nothing touches pyplot's
global state or needs a display.
"""
from typing import Optional, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from echoseg.evaluation.functional import agreement_stats, paired_finite


def _new_axes(ax, figsize):
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot(1, 1, 1)


def _label(quantity: str, unit: str) -> str:
    return f'{quantity} ({unit})' if unit else quantity


def regression_plot(pred: Sequence[float], ref: Sequence[float], quantity: str = 'EF',
                    unit: str = '%', ax=None, title: Optional[str] = None) -> Figure:
    """Scatter of predicted (y) against reference (x) with the identity line, the
    least-squares line and Pearson r."""
    p, r = paired_finite(pred, ref)
    fig, ax = _new_axes(ax, (4.5, 4.5))
    ax.scatter(r, p, s=14, alpha=0.75, edgecolors='none')
    if p.size:
        lo, hi = float(min(p.min(), r.min())), float(max(p.max(), r.max()))
        pad = 0.05 * (hi - lo or 1.0)
        lims = (lo - pad, hi + pad)
        ax.plot(lims, lims, color='0.5', linestyle='--', linewidth=1, label='identity')
        if p.size >= 2 and np.ptp(r) > 0:
            slope, icpt = np.polyfit(r, p, 1)
            xs = np.array(lims)
            ax.plot(xs, slope * xs + icpt, color='C3', linewidth=1.2,
                    label=f'y = {slope:.2f}x {"-" if icpt < 0 else "+"} {abs(icpt):.1f}')
        ax.set_xlim(lims)
        ax.set_ylim(lims)
        ax.legend(loc='upper left', fontsize=8)
    stats = agreement_stats(p, r)
    ax.set_xlabel('reference ' + _label(quantity, unit))
    ax.set_ylabel('predicted ' + _label(quantity, unit))
    ax.set_title(title or f'{quantity}: r = {stats["corr"]:.3f} (n = {int(stats["n"])})')
    ax.set_aspect('equal', adjustable='box')
    fig.tight_layout()
    return fig


def bland_altman_plot(pred: Sequence[float], ref: Sequence[float], quantity: str = 'EF',
                      unit: str = '%', ax=None, title: Optional[str] = None) -> Figure:
    """Difference (pred - ref) against mean, with the bias and the limits of agreement
    ``bias +/- 1.96 sd``."""
    p, r = paired_finite(pred, ref)
    stats = agreement_stats(p, r)
    fig, ax = _new_axes(ax, (5.5, 4.0))
    ax.scatter((p + r) / 2, p - r, s=14, alpha=0.75, edgecolors='none')
    if np.isfinite(stats['bias']):
        ax.axhline(stats['bias'], color='C3', linewidth=1.2,
                   label=f'bias {stats["bias"]:.2f}')
    if np.isfinite(stats['sd']):
        for key in ('loa_low', 'loa_high'):
            ax.axhline(stats[key], color='0.4', linestyle='--', linewidth=1)
        ax.text(0.01, stats['loa_high'], f'+1.96 sd: {stats["loa_high"]:.2f}',
                va='bottom', ha='left', fontsize=8, transform=ax.get_yaxis_transform())
        ax.text(0.01, stats['loa_low'], f'-1.96 sd: {stats["loa_low"]:.2f}', va='top',
                ha='left', fontsize=8, transform=ax.get_yaxis_transform())
        diffs = np.concatenate([p - r, [stats['loa_low'], stats['loa_high'], 0.0]])
        span = float(np.ptp(diffs)) or 1.0
        ax.set_ylim(diffs.min() - 0.12 * span, diffs.max() + 0.12 * span)
    ax.axhline(0.0, color='0.75', linewidth=0.8)
    ax.set_xlabel('mean of predicted and reference ' + _label(quantity, unit))
    ax.set_ylabel('predicted - reference ' + _label(quantity, unit))
    ax.set_title(title or (f'{quantity}: bias {stats["bias"]:.2f}, '
                           f'LoA [{stats["loa_low"]:.2f}, {stats["loa_high"]:.2f}]'))
    if p.size:
        ax.legend(loc='upper right', fontsize=8)
    fig.tight_layout()
    return fig


def save_figure(fig: Figure, path: str, dpi: int = 120) -> str:
    """Write ``fig`` (PNG/PDF/SVG by the extension) and return the path."""
    fig.savefig(path, dpi=dpi)
    return path


def save_agreement_plots(cases: Sequence[dict], out_dir: str, name: str,
                         quantities: Sequence[str] = ('EF', 'EDV', 'ESV')) -> list:
    """Regression and Bland-Altman PNGs for each quantity of EchoMetric's ``ef_cases``
    (keys ``<q>_pred`` / ``<q>_ref``); quantities with no complete pair are skipped."""
    import os
    import os.path as osp
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for q in quantities:
        pred = np.array([float(c[f'{q.lower()}_pred']) for c in cases])
        ref = np.array([float(c[f'{q.lower()}_ref']) for c in cases])
        if not np.any(np.isfinite(pred) & np.isfinite(ref)):
            continue
        unit = '%' if q == 'EF' else str(cases[0].get('volume_unit', ''))
        for kind, plot in (('regression', regression_plot),
                           ('bland_altman', bland_altman_plot)):
            path = osp.join(out_dir, f'{name}_{q}_{kind}.png')
            save_figure(plot(pred, ref, quantity=q, unit=unit), path)
            written.append(path)
    return written
