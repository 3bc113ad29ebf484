"""Overlap scores of binary masks: Dice and IoU (Jaccard).

Empty masks: when both the prediction and the reference are empty the masks agree
perfectly and both scores are 1; when exactly one is empty both scores are 0.
"""
from typing import Dict, Iterable, Optional

import numpy as np


def _binary(mask, label: Optional[int] = None) -> np.ndarray:
    mask = np.asarray(mask)
    if label is None:
        return mask.astype(bool)
    return mask == label


def _check_same_shape(pred: np.ndarray, gt: np.ndarray) -> None:
    if pred.shape != gt.shape:
        raise ValueError(f'prediction shape {pred.shape} differs from reference shape '
                         f'{gt.shape}')


def dice_score(pred, gt, label: Optional[int] = None) -> float:
    """Dice = 2|P & G| / (|P| + |G|); 1 when both masks are empty.

    Args:
        pred, gt: masks of the same shape (any number of dimensions). With ``label``
            given, the binary masks are ``pred == label`` and ``gt == label``; without it
            any non-zero value is foreground.
    """
    p, g = _binary(pred, label), _binary(gt, label)
    _check_same_shape(p, g)
    denom = int(p.sum()) + int(g.sum())
    if denom == 0:
        return 1.0
    return 2.0 * int(np.logical_and(p, g).sum()) / denom


def iou_score(pred, gt, label: Optional[int] = None) -> float:
    """IoU (Jaccard) = |P & G| / |P | G|; 1 when both masks are empty."""
    p, g = _binary(pred, label), _binary(gt, label)
    _check_same_shape(p, g)
    union = int(np.logical_or(p, g).sum())
    if union == 0:
        return 1.0
    return int(np.logical_and(p, g).sum()) / union


def per_label_overlap(pred, gt, labels: Iterable[int]) -> Dict[int, Dict[str, float]]:
    """``{label: {'dice': ..., 'iou': ...}}`` for every label in ``labels``."""
    pred, gt = np.asarray(pred), np.asarray(gt)
    _check_same_shape(pred, gt)
    return {int(k): dict(dice=dice_score(pred, gt, k), iou=iou_score(pred, gt, k))
            for k in labels}
