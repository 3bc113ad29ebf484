"""Surface distances of binary masks: Hausdorff (HD, HD95) and average symmetric surface
distance (ASD), in physical units when a pixel spacing is given.

Definitions (as in the medical segmentation decathlon / medpy):

- the *surface* of a mask is its foreground pixels that have a background 4-neighbour
  (``mask & ~erode(mask)``, 6-neighbours in 3-D); pixels on the image border count as
  surface;
- ``d(P->G)``: for every surface pixel of P, the Euclidean distance to the nearest surface
  pixel of G, from ``scipy.ndimage.distance_transform_edt(~surface(G), sampling=spacing)``;
- ``HDq = max(q-th percentile of d(P->G), q-th percentile of d(G->P))`` (q = 95 for HD95,
  100 for the plain Hausdorff distance; numpy's linear percentile);
- ``ASD = (sum d(P->G) + sum d(G->P)) / (|surface(P)| + |surface(G)|)``.

Empty masks: both empty -> 0 (perfect agreement); exactly one empty -> undefined, returned
as NaN (``empty='nan'``, the default; aggregate with ``np.nanmean`` and count the NaNs) or
as the image diagonal in physical units (``empty='diagonal'``, a finite worst case).
"""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
from scipy import ndimage

EMPTY_MODES = ('nan', 'diagonal')


def _spacing(spacing: Optional[Sequence[float]], ndim: int) -> Tuple[float, ...]:
    if spacing is None:
        return (1.0, ) * ndim
    spacing = tuple(float(s) for s in np.ravel(spacing))
    if len(spacing) != ndim:
        raise ValueError(f'spacing {spacing} has {len(spacing)} values for a '
                         f'{ndim}-D mask')
    if not all(np.isfinite(s) and s > 0 for s in spacing):
        raise ValueError(f'spacing must be positive and finite, got {spacing}')
    return spacing


def mask_surface(mask: np.ndarray) -> np.ndarray:
    """Foreground pixels with a background face-neighbour (image border = background)."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return mask.copy()
    structure = ndimage.generate_binary_structure(mask.ndim, 1)
    return mask & ~ndimage.binary_erosion(mask, structure=structure, border_value=0)


def surface_distances(pred, gt, spacing: Optional[Sequence[float]] = None
                      ) -> Tuple[np.ndarray, np.ndarray]:
    """Directed surface distances ``(d(P->G), d(G->P))`` of two non-empty masks."""
    p, g = np.asarray(pred, dtype=bool), np.asarray(gt, dtype=bool)
    if p.shape != g.shape:
        raise ValueError(f'prediction shape {p.shape} differs from reference shape '
                         f'{g.shape}')
    if not p.any() or not g.any():
        raise ValueError('surface_distances needs two non-empty masks')
    sampling = _spacing(spacing, p.ndim)
    sp, sg = mask_surface(p), mask_surface(g)
    # Crop to the surfaces' bounding box: every nearest surface pixel lies inside it, so
    # the distance transform is unchanged and much cheaper on large frames.
    idx = np.nonzero(sp | sg)
    box = tuple(slice(int(i.min()), int(i.max()) + 1) for i in idx)
    sp, sg = sp[box], sg[box]
    d_pg = ndimage.distance_transform_edt(~sg, sampling=sampling)[sp]
    d_gp = ndimage.distance_transform_edt(~sp, sampling=sampling)[sg]
    return d_pg, d_gp


def _empty_value(shape, spacing, empty: str) -> float:
    if empty not in EMPTY_MODES:
        raise ValueError(f'empty must be one of {EMPTY_MODES}, got {empty!r}')
    if empty == 'nan':
        return float('nan')
    sampling = _spacing(spacing, len(shape))
    return float(np.sqrt(sum((n * s)**2 for n, s in zip(shape, sampling))))


def surface_metrics(pred, gt, spacing: Optional[Sequence[float]] = None,
                    percentile: float = 95.0, empty: str = 'nan') -> Dict[str, float]:
    """``{'hd': HD_percentile, 'asd': ASD}`` from one pair of distance transforms.

    Args:
        pred, gt: binary masks of the same shape (non-zero = foreground).
        spacing: physical size of a pixel along each axis ((row, col) in mm for a frame);
            None measures in pixels.
        percentile: q of HDq (95 -> HD95, 100 -> Hausdorff).
        empty: value when exactly one mask is empty: ``'nan'`` or ``'diagonal'``.
    """
    p, g = np.asarray(pred, dtype=bool), np.asarray(gt, dtype=bool)
    if p.shape != g.shape:
        raise ValueError(f'prediction shape {p.shape} differs from reference shape '
                         f'{g.shape}')
    has_p, has_g = bool(p.any()), bool(g.any())
    if not has_p and not has_g:
        return dict(hd=0.0, asd=0.0)
    if not has_p or not has_g:
        value = _empty_value(p.shape, spacing, empty)
        return dict(hd=value, asd=value)
    d_pg, d_gp = surface_distances(p, g, spacing)
    hd = max(float(np.percentile(d_pg, percentile)), float(np.percentile(d_gp, percentile)))
    asd = float((d_pg.sum() + d_gp.sum()) / (d_pg.size + d_gp.size))
    return dict(hd=hd, asd=asd)


def hausdorff_distance(pred, gt, spacing: Optional[Sequence[float]] = None,
                       percentile: float = 95.0, empty: str = 'nan') -> float:
    """HDq = max of the two directed q-th percentile surface distances (q=95: HD95)."""
    return surface_metrics(pred, gt, spacing, percentile, empty)['hd']


def hd95(pred, gt, spacing: Optional[Sequence[float]] = None, empty: str = 'nan') -> float:
    """95th-percentile Hausdorff distance (see :func:`hausdorff_distance`)."""
    return hausdorff_distance(pred, gt, spacing, 95.0, empty)


def average_surface_distance(pred, gt, spacing: Optional[Sequence[float]] = None,
                             empty: str = 'nan') -> float:
    """ASD = mean of all surface distances in both directions (symmetric)."""
    return surface_metrics(pred, gt, spacing, 95.0, empty)['asd']
