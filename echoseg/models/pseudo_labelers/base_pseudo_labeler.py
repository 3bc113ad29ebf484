"""Interface of the ``pseudo_labeler`` slot of ``EchoVideoSegmentor``."""
from abc import ABCMeta, abstractmethod
from typing import Dict, Tuple

import torch
from mmengine.model import BaseModule
from torch import Tensor

from ..utils import ClipContext


class BasePseudoLabeler(BaseModule, metaclass=ABCMeta):
    """Turns the model's own predictions into pseudo-labels for unlabelled frames.

    Called by the segmentor in training only, after the decode head::

        out = pseudo_labeler(seg_logits, features, clip)

    Args given:
        seg_logits: (B*T, K, H, W) raw logits of every frame, upsampled to the input size,
            still attached to the graph (a labeler that trains its own parameters from
            them may use the graph; one that only reads them must ``detach()``).
        features: the neck outputs (tuple of (B*T, C, h, w)), attached to the graph.
        clip: the :class:`ClipContext` (labelled mask, gt masks of labelled frames).

    Returns a dict:
        ``labels``: (B*T, H, W) long pseudo-labels.
        ``confidence``: (B*T, H, W) float in [0, 1]; the segmentor keeps the pixels of
            unlabelled frames whose confidence is at least its current threshold.
        ``losses``: dict of the labeler's own training losses (may be empty); keys that
            contain ``loss`` are summed into the total loss.
    """

    @staticmethod
    def probabilities(logits: Tensor) -> Tensor:
        """Class probabilities of (n, K, H, W) logits; a one-channel sigmoid head gives
        (1 - p, p)."""
        if logits.shape[1] == 1:
            p = logits.sigmoid()
            return torch.cat([1 - p, p], dim=1)
        return logits.softmax(dim=1)

    @abstractmethod
    def forward(self, seg_logits: Tensor, features: Tuple[Tensor, ...],
                clip: ClipContext) -> Dict:
        """Return ``dict(labels=..., confidence=..., losses=...)``."""
