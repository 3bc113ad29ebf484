"""Temporal consistency of a clip's LV area curve.

With ``A_t`` the LV area of frame t (mm^2 with a spacing, px^2 otherwise) and ``A_ED`` the
area at the end-diastolic frame of the same curve:

- ``area_change`` = mean_t |A_{t+1} - A_t| / A_ED: the mean relative frame-to-frame change;
- ``area_flicker`` = (sum_t |A_{t+1} - A_t| - |A_last - A_first|) / ((T - 1) A_ED): the
  variation beyond the net change, 0 for a monotone curve (an ED -> ES clip should shrink
  monotonically), so it measures flicker without a reference;
- ``curve_error`` = mean_t |A_t - A*_t| / A*_ED: the distance between a predicted and a
  reference curve, relative to the reference ED area.

All return NaN when undefined (fewer than 2 frames, or a zero ED area).
"""
from typing import Optional, Sequence

import numpy as np


def mask_areas(masks, spacing: Optional[Sequence[float]] = None,
               label: Optional[int] = None) -> np.ndarray:
    """(T,) foreground areas of (T, H, W) masks: pixel count times row * col spacing."""
    masks = np.asarray(masks)
    fg = masks.astype(bool) if label is None else masks == label
    unit = 1.0 if spacing is None else float(spacing[0]) * float(spacing[1])
    return fg.reshape(fg.shape[0], -1).sum(axis=1).astype(np.float64) * unit


def _reference_area(areas: np.ndarray, ed_index: int) -> float:
    a = float(areas[ed_index])
    return a if a > 0 else float('nan')


def area_change(areas, ed_index: int = 0) -> float:
    """Mean |A_{t+1} - A_t| / A_ED."""
    a = np.asarray(areas, dtype=np.float64)
    if a.size < 2:
        return float('nan')
    return float(np.abs(np.diff(a)).mean() / _reference_area(a, ed_index))


def area_flicker(areas, ed_index: int = 0) -> float:
    """(Total variation - |net change|) / ((T - 1) A_ED); 0 for a monotone curve."""
    a = np.asarray(areas, dtype=np.float64)
    if a.size < 2:
        return float('nan')
    excess = np.abs(np.diff(a)).sum() - abs(a[-1] - a[0])
    return float(excess / (a.size - 1) / _reference_area(a, ed_index))


def curve_error(pred_areas, ref_areas, ed_index: int = 0) -> float:
    """Mean |A_t - A*_t| / A*_ED between a predicted and a reference area curve."""
    p = np.asarray(pred_areas, dtype=np.float64)
    r = np.asarray(ref_areas, dtype=np.float64)
    if p.shape != r.shape:
        raise ValueError(f'area curves of different lengths: {p.shape} and {r.shape}')
    if p.size == 0:
        return float('nan')
    return float(np.abs(p - r).mean() / _reference_area(r, ed_index))
