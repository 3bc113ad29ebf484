"""A differentiable LV-size agreement term: the soft area of each labelled frame against
its reference area (docs/evaluation.md, "Where the EF bias starts")."""
from typing import Optional

import torch.nn.functional as F
from torch import Tensor, nn

from echoseg.registry import MODELS


@MODELS.register_module()
class SoftAreaLoss(nn.Module):
    """``loss_weight * mean_n |A_n - R_n|^p / R_n^p`` over the frames with a reference.

    ``R_n`` is the number of frame n's non-ignored pixels labelled ``class_index``;
    ``A_n`` its soft area: the sum of the class probability (softmax over K channels, or
    the sigmoid of a one-channel logit) over the non-ignored pixels within ``band`` pixels
    (a square neighbourhood) of the reference region, or over all of them with
    ``band=None``. The band keeps the faint probability spread over the whole background
    (left to the pixel-wise losses) from outweighing the border, where the size is decided:
    without it, an untrained network's diffuse background mass dominates ``A_n`` and the
    term drives every probability down. Frames without a non-ignored pixel, or whose
    reference area is below ``min_area`` pixels, do not count. Pixel-wise losses let a
    size bias through (small errors spread along the whole border); this term sees the
    frame's total, which EF is made of.

    Args:
        class_index: the class whose area is matched (the LV, 1).
        band: half-width (pixels) of the neighbourhood of the reference region counted,
            or None for the whole frame.
        exponent: ``p``: 1 (relative absolute error) or 2 (squared).
        min_area: reference areas (pixels) below this are skipped.
        loss_weight: overall weight.
        loss_name: the logged name (must start with ``loss_`` to be optimised).
    """

    def __init__(self, class_index: int = 1, band: Optional[int] = 8, exponent: float = 1.0,
                 min_area: float = 1.0, loss_weight: float = 1.0,
                 loss_name: str = 'loss_area'):
        super().__init__()
        if exponent not in (1, 2):
            raise ValueError(f'SoftAreaLoss: exponent must be 1 or 2, got {exponent!r}')
        if band is not None and int(band) < 0:
            raise ValueError(f'SoftAreaLoss: band must be >= 0 or None, got {band!r}')
        self.class_index = int(class_index)
        self.band = None if band is None else int(band)
        self.exponent = exponent
        self.min_area = float(min_area)
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def forward(self, pred: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                ignore_index: int = 255, **kwargs) -> Tensor:
        if target.dim() == pred.dim():
            target = target.squeeze(1)
        if pred.shape[1] == 1:
            if self.class_index != 1:
                raise ValueError('SoftAreaLoss: a one-channel prediction has class 1 only, '
                                 f'got class_index={self.class_index}')
            prob = pred[:, 0].sigmoid()
        else:
            if not 0 <= self.class_index < pred.shape[1]:
                raise ValueError(f'SoftAreaLoss: class_index {self.class_index} is not one '
                                 f'of the {pred.shape[1]} channels')
            prob = pred.softmax(dim=1)[:, self.class_index]
        valid = (target != ignore_index).float()
        ref_mask = (target == self.class_index).float() * valid
        counted = valid
        if self.band is not None:
            k = 2 * self.band + 1
            near = F.max_pool2d(ref_mask.unsqueeze(1), k, stride=1, padding=self.band)
            counted = valid * near.squeeze(1)
        soft = (prob * counted).flatten(1).sum(1)
        ref = ref_mask.flatten(1).sum(1)
        keep = (valid.flatten(1).sum(1) > 0) & (ref >= self.min_area)
        if not bool(keep.any()):
            return pred.sum() * 0.0
        err = (soft[keep] - ref[keep]).abs() / ref[keep]
        if self.exponent == 2:
            err = err * err
        return self.loss_weight * err.mean()
