"""LV volume by Simpson's method of disks and the ejection fraction.

Geometry of one apical view (:func:`lv_disk_geometry`):

1. The LV mask is cleaned: the largest 8-connected component, holes filled.
2. Its outer contour is traced on the mask upsampled 4x (so contour points lie 1/8 pixel
   inside the pixel edges instead of 1/2), in physical coordinates ``(x * col_mm,
   y * row_mm)``.
3. *Base (mitral annulus).* A provisional long axis is the mask's principal axis (the image
   vertical when the mask is nearly isotropic), pointing to the apex side of the image
   (``apex_side='top'``: the transducer, hence the apex, is at the top of an apical view).
   The *basal arc* is the stretch of contour around the most basal point whose height along
   that axis is in the lowest 40% of the mask's extent. At every contour point the signed
   turning angle between the chords to the points one window behind and ahead along the
   contour is measured (window ``w = max(2 * max(spacing), 0.06 * extent)``). The two base
   points are the pair of basal-arc points at least ``w`` apart with the largest summed convex
   turn: for a traced LV, closed by a (straight or gently curved) line across the annulus,
   these are the two corners where that line meets the septal and lateral walls; for a
   rounded bottom with no corners (an ellipse) the turning peaks at the lowest point, and
   the base closes in on the basal pole.
4. *Apex* = the contour point farthest from the base midpoint; long axis ``L`` = that
   distance.
5. *Disks.* The axis is split into ``N = 20`` slices; disk ``i``'s diameter is measured on
   the line perpendicular to the axis through the slice middle ``(i + 1/2) L / N``, as the
   extent (first to last foreground sample, sampled every 1/20 pixel on the pixel grid) of
   the cleaned mask along that line.

Volumes: single plane ``V = pi/4 * sum(d_i^2) * L/N``; biplane (2CH + 4CH)
``V = pi/4 * sum(a_i * b_i) * max(L_a, L_b)/N``. With the spacing in mm the volume is
returned in ml (mm^3 / 1000); with no spacing, in cubic pixels (px^3).
Ejection fraction ``EF = (EDV - ESV) / EDV * 100`` (percent).
"""
from dataclasses import dataclass, field
from typing import Dict, Optional, Sequence

import cv2
import numpy as np
from scipy import ndimage

NUM_DISKS = 20
_UPSAMPLE = 4


@dataclass
class DiskGeometry:
    """Simpson geometry of one view.

    Points are ``(x, y)`` = (column, row) in pixels of the input mask; ``length`` and
    ``diameters`` are in physical units (mm with a spacing, pixels without).
    """
    base_points: np.ndarray = field(default_factory=lambda: np.full((2, 2), np.nan))
    apex: np.ndarray = field(default_factory=lambda: np.full(2, np.nan))
    length: float = 0.0
    diameters: np.ndarray = field(default_factory=lambda: np.zeros(NUM_DISKS))
    disk_centres: np.ndarray = field(default_factory=lambda: np.full((NUM_DISKS, 2), np.nan))
    spacing_known: bool = False

    @property
    def empty(self) -> bool:
        return not self.length > 0

    @property
    def base_midpoint(self) -> np.ndarray:
        return self.base_points.mean(axis=0)

    def to_dict(self) -> Dict:
        return dict(base_points=self.base_points.tolist(), apex=self.apex.tolist(),
                    length=float(self.length), diameters=self.diameters.tolist(),
                    disk_centres=self.disk_centres.tolist(),
                    spacing_known=bool(self.spacing_known))


def _clean_mask(mask: np.ndarray) -> np.ndarray:
    mask = np.asarray(mask).astype(bool)
    if mask.ndim != 2:
        raise ValueError(f'Simpson volumes need a 2-D mask, got shape {mask.shape}')
    labels, n = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
    if n > 1:
        sizes = ndimage.sum_labels(mask, labels, index=np.arange(1, n + 1))
        mask = labels == (int(np.argmax(sizes)) + 1)
    return ndimage.binary_fill_holes(mask)


def _contour_xy(mask: np.ndarray) -> np.ndarray:
    """Outer contour (K, 2) in pixel (x, y) of ``mask``, traced on a 4x upsampled copy."""
    rows, cols = np.nonzero(mask)
    r0, r1, c0, c1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    crop = mask[r0:r1, c0:c1]
    up = np.repeat(np.repeat(crop, _UPSAMPLE, axis=0), _UPSAMPLE, axis=1)
    up = np.pad(up, 1).astype(np.uint8)
    contours, _ = cv2.findContours(up, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    contour = max(contours, key=len)[:, 0, :].astype(np.float64) - 1.0
    # upsampled pixel u covers original [(u)/k, (u+1)/k) -> centre at (u + 0.5)/k - 0.5
    xy = (contour + 0.5) / _UPSAMPLE - 0.5
    xy[:, 0] += c0
    xy[:, 1] += r0
    return xy


def _principal_axis(mask: np.ndarray, sr: float, sc: float, apex_side: str) -> np.ndarray:
    rows, cols = np.nonzero(mask)
    pts = np.stack([cols * sc, rows * sr], axis=1).astype(np.float64)
    pts -= pts.mean(axis=0)
    if len(pts) < 3:
        evals, evecs = np.array([1.0, 1.0]), np.eye(2)
    else:
        evals, evecs = np.linalg.eigh(np.cov(pts.T))
    axis = evecs[:, -1]
    if evals[-1] < 1.1 * max(evals[0], 1e-12):
        axis = np.array([0.0, 1.0])  # nearly isotropic: the image vertical
    # apex towards the top of the image means a negative y component
    sign = -1.0 if apex_side == 'top' else 1.0
    if axis[1] * sign < 0 or (axis[1] == 0 and axis[0] < 0):
        axis = -axis
    return axis / np.linalg.norm(axis)


def _turning_angles(points: np.ndarray, window: float) -> np.ndarray:
    """Signed turn (radians, positive = convex) of a closed contour at every point,
    between the chords to the points ``window`` arc length behind and ahead."""
    n = len(points)
    seg = np.hypot(*np.diff(np.concatenate([points, points[:1]]), axis=0).T)
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    perimeter = arc[-1]
    window = min(window, perimeter / 4)
    closed = np.concatenate([points, points[:1]])

    def at(s):
        s = np.mod(s, perimeter)
        return np.stack([np.interp(s, arc, closed[:, 0]), np.interp(s, arc, closed[:, 1])], 1)

    here = points
    back, ahead = at(arc[:n] - window), at(arc[:n] + window)
    d1, d2 = here - back, ahead - here
    cross = d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0]
    dot = (d1 * d2).sum(axis=1)
    turn = np.arctan2(cross, dot)
    # orientation of the contour (shoelace): make convex turns positive
    x, y = points[:, 0], points[:, 1]
    area2 = np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))
    return turn if area2 > 0 else -turn


def _find_base(contour_phys: np.ndarray, axis: np.ndarray, window: float,
               basal_fraction: float = 0.4):
    """Indices of the two annulus points (see the module doc)."""
    n = len(contour_phys)
    proj = contour_phys @ axis
    k0 = int(np.argmin(proj))
    limit = proj[k0] + basal_fraction * float(np.ptp(proj))
    # the basal arc: the contiguous stretch of contour around k0 below ``limit``
    lo = hi = 0
    while lo < n // 2 and proj[(k0 - lo - 1) % n] <= limit:
        lo += 1
    while hi < n // 2 and proj[(k0 + hi + 1) % n] <= limit:
        hi += 1
    idx = (k0 + np.arange(-lo, hi + 1)) % n
    pts = contour_phys[idx]
    turn = _turning_angles(contour_phys, window)[idx]
    arc = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(pts, axis=0).T))])
    # best pair i < j with arc(j) - arc(i) >= window maximising turn[i] + turn[j]
    best_prefix = np.maximum.accumulate(turn)
    best_at = np.zeros(len(turn), dtype=np.int64)
    for k in range(1, len(turn)):
        best_at[k] = k if turn[k] >= turn[best_at[k - 1]] else best_at[k - 1]
    firsts = np.searchsorted(arc, arc - window, side='right') - 1  # last i within reach
    score, pair = -np.inf, (len(idx) // 2, len(idx) // 2)
    for j in range(len(idx)):
        i = firsts[j]
        if i < 0:
            continue
        total = best_prefix[i] + turn[j]
        if total > score:
            score, pair = total, (int(best_at[i]), j)
    return int(idx[pair[0]]), int(idx[pair[1]])


def lv_disk_geometry(mask, spacing: Optional[Sequence[float]] = None,
                     num_disks: int = NUM_DISKS, apex_side: str = 'top',
                     corner_window: Optional[float] = None) -> DiskGeometry:
    """Base, apex, long axis and disk diameters of one LV mask (see the module doc).

    Args:
        mask: (H, W) binary LV mask (non-zero = LV).
        spacing: (row, col) pixel size in mm, or None for pixels.
        num_disks: number of disks N (20 by the ASE convention).
        apex_side: ``'top'`` or ``'bottom'``: where the apex is in the image.
        corner_window: arc length (physical units) over which the contour's turning is
            measured (default ``max(2 * max(spacing), 0.06 * extent along the axis)``).
    """
    if apex_side not in ('top', 'bottom'):
        raise ValueError(f"apex_side must be 'top' or 'bottom', got {apex_side!r}")
    sr, sc = (1.0, 1.0) if spacing is None else (float(spacing[0]), float(spacing[1]))
    mask = _clean_mask(mask)
    empty = DiskGeometry(diameters=np.zeros(num_disks),
                         disk_centres=np.full((num_disks, 2), np.nan),
                         spacing_known=spacing is not None)
    if not mask.any():
        return empty
    scale = np.array([sc, sr])
    contour = _contour_xy(mask)
    phys = contour * scale
    axis = _principal_axis(mask, sr, sc, apex_side)
    if len(phys) < 3:
        return empty
    extent = float(np.ptp(phys @ axis))
    window = corner_window if corner_window is not None else max(
        2.0 * max(sr, sc), 0.06 * extent)
    i, j = _find_base(phys, axis, window)
    base = phys[[i, j]]
    if base[0] @ np.array([-axis[1], axis[0]]) > base[1] @ np.array([-axis[1], axis[0]]):
        base = base[::-1]
    mid = base.mean(axis=0)
    dist = np.hypot(*(phys - mid).T)
    apex = phys[int(np.argmax(dist))]
    length = float(dist.max())
    if length <= 0:
        return empty
    e = (apex - mid) / length
    n = np.array([-e[1], e[0]])
    centres = mid + np.outer((np.arange(num_disks) + 0.5) * length / num_disks, e)
    radius = float(np.hypot(*(phys - mid).T).max()) + max(sr, sc)
    step = 0.05 * min(sr, sc)
    s = np.arange(-radius, radius + step, step)
    h, w = mask.shape
    diameters = np.zeros(num_disks)
    for k, c in enumerate(centres):
        line = c + np.outer(s, n)
        col = np.rint(line[:, 0] / sc).astype(np.int64)
        row = np.rint(line[:, 1] / sr).astype(np.int64)
        ok = (row >= 0) & (row < h) & (col >= 0) & (col < w)
        inside = np.zeros(len(s), dtype=bool)
        inside[ok] = mask[row[ok], col[ok]]
        hit = np.flatnonzero(inside)
        if hit.size:
            diameters[k] = (hit[-1] - hit[0] + 1) * step
    return DiskGeometry(base_points=base / scale, apex=apex / scale, length=length,
                        diameters=diameters, disk_centres=centres / scale,
                        spacing_known=spacing is not None)


def volume_from_disks(diameters, length: float, diameters_b=None,
                      length_b: Optional[float] = None) -> float:
    """Method of disks from measured diameters (physical units cubed, no conversion).

    Single plane: ``pi/4 * sum(d_i^2) * L/N``. Biplane (``diameters_b`` given):
    ``pi/4 * sum(a_i * b_i) * max(L_a, L_b)/N``.
    """
    a = np.asarray(diameters, dtype=np.float64)
    if diameters_b is None:
        if not np.isfinite(length) or length <= 0:
            return 0.0 if length == 0 else float('nan')
        return float(np.pi / 4 * np.sum(a * a) * length / len(a))
    b = np.asarray(diameters_b, dtype=np.float64)
    if len(a) != len(b):
        raise ValueError(f'biplane views have {len(a)} and {len(b)} disks')
    if length_b is None:
        raise ValueError('biplane volume needs the second view length')
    big = max(float(length), float(length_b))
    if not np.isfinite(big):
        return float('nan')
    if length <= 0 or length_b <= 0:
        return 0.0
    return float(np.pi / 4 * np.sum(a * b) * big / len(a))


def _to_output_units(volume: float, spacing_known: bool) -> float:
    return volume / 1000.0 if spacing_known else volume


def simpson_volume(mask, spacing: Optional[Sequence[float]] = None,
                   num_disks: int = NUM_DISKS, apex_side: str = 'top') -> float:
    """Single-plane volume ``pi/4 * sum(d_i^2) * L/N``: ml with spacing in mm, else px^3.

    An empty mask has volume 0.
    """
    geo = lv_disk_geometry(mask, spacing, num_disks, apex_side)
    return _to_output_units(volume_from_disks(geo.diameters, geo.length), spacing is not None)


def biplane_volume(mask_a, mask_b, spacing_a: Optional[Sequence[float]] = None,
                   spacing_b: Optional[Sequence[float]] = None, num_disks: int = NUM_DISKS,
                   apex_side: str = 'top') -> float:
    """Biplane volume ``pi/4 * sum(a_i * b_i) * max(L_a, L_b)/N`` of two orthogonal views
    (2CH and 4CH): ml when both spacings are given, else px^3."""
    if (spacing_a is None) != (spacing_b is None):
        raise ValueError('biplane volume needs the spacing of both views or of neither')
    ga = lv_disk_geometry(mask_a, spacing_a, num_disks, apex_side)
    gb = lv_disk_geometry(mask_b, spacing_b, num_disks, apex_side)
    v = volume_from_disks(ga.diameters, ga.length, gb.diameters, gb.length)
    return _to_output_units(v, spacing_a is not None)


def ejection_fraction(edv: float, esv: float) -> float:
    """``EF = (EDV - ESV) / EDV * 100``; NaN when EDV is not positive or not finite."""
    edv, esv = float(edv), float(esv)
    if not (np.isfinite(edv) and np.isfinite(esv)) or edv <= 0:
        return float('nan')
    return (edv - esv) / edv * 100.0
