"""The supervised loss of EchoForge, eq. 9: binary cross-entropy + Dice, in one module.

Why not mmseg's ``CrossEntropyLoss(use_sigmoid=True)`` + ``DiceLoss``: in mmseg 1.2.2
``DiceLoss`` one-hot encodes the target with as many channels as the prediction, so for a
one-channel (sigmoid) head it scores sigmoid(pred) against the *background* indicator, and
it never removes ``ignore_index`` pixels (it drops the class channel numbered
``ignore_index`` instead), which matters for the unsupervised loss where low-confidence
pixels are ignored; mmseg's binary cross-entropy also fails an assertion when every pixel
of a batch is ignored. This module handles all three.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from echoseg.registry import MODELS


@MODELS.register_module()
class BCEDiceLoss(nn.Module):
    """``loss_weight * (bce_weight * BCE + dice_weight * Dice)`` over non-ignored pixels.

    One-channel logits (N, 1, H, W): sigmoid binary cross-entropy and the Dice of the
    foreground. K-channel logits (N, K, H, W): softmax cross-entropy (the multi-class form
    of the BCE term) and the mean Dice of classes 1..K-1 (``include_background=False``) or
    of all K classes. Dice is computed per sample, ``(2 sum(p g) + smooth) / (sum p + sum g
    + smooth)``, and averaged over the samples that have a valid pixel.

    Args:
        bce_weight, dice_weight: weights of the two terms (eq. 9 uses 1 and 1).
        smooth: Dice smoothing; keeps an empty prediction of an empty mask at loss 0.
        include_background: count the background class in the multi-class Dice.
        loss_weight: overall weight.
        loss_name: the logged name (must start with ``loss_`` to be optimised).
    """

    def __init__(self, bce_weight: float = 1.0, dice_weight: float = 1.0, smooth: float = 1.0,
                 include_background: bool = False, loss_weight: float = 1.0,
                 loss_name: str = 'loss_bce_dice'):
        super().__init__()
        self.bce_weight = bce_weight
        self.dice_weight = dice_weight
        self.smooth = smooth
        self.include_background = include_background
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def forward(self, pred: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                ignore_index: int = 255, **kwargs) -> Tensor:
        if target.dim() == pred.dim():
            target = target.squeeze(1)
        valid = target != ignore_index
        if not bool(valid.any()):
            return pred.sum() * 0.0
        validf = valid.float()
        safe = torch.where(valid, target, torch.zeros_like(target)).long()
        if pred.shape[1] == 1:
            logit = pred[:, 0]
            if bool((safe > 1).any()):
                raise ValueError('BCEDiceLoss: a one-channel prediction needs labels in {0, 1}')
            bce = F.binary_cross_entropy_with_logits(logit, safe.float(), reduction='none')
            probs = logit.sigmoid().unsqueeze(1)
            onehot = safe.float().unsqueeze(1)
        else:
            bce = F.cross_entropy(pred, safe, reduction='none')
            probs = pred.softmax(dim=1)
            onehot = F.one_hot(safe, pred.shape[1]).permute(0, 3, 1, 2).float()
            if not self.include_background:
                probs, onehot = probs[:, 1:], onehot[:, 1:]
        if weight is not None:
            validf = validf * weight
        bce = (bce * validf).sum() / validf.sum().clamp_min(1e-6)
        m = valid.unsqueeze(1).float()
        inter = (probs * onehot * m).flatten(2).sum(-1)
        denom = (probs * m).flatten(2).sum(-1) + (onehot * m).flatten(2).sum(-1)
        dice = 1 - (2 * inter + self.smooth) / (denom + self.smooth)  # (N, C)
        has_valid = valid.flatten(1).any(dim=1)
        dice = dice.mean(dim=1)[has_valid].mean()
        return self.loss_weight * (self.bce_weight * bce + self.dice_weight * dice)
