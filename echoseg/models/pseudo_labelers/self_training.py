"""The plain self-training pseudo-labeler: the model's own confident predictions."""
from typing import Dict, Tuple

from torch import Tensor

from echoseg.registry import MODELS
from ..utils import ClipContext
from .base_pseudo_labeler import BasePseudoLabeler


@MODELS.register_module()
class SelfTrainingPseudoLabeler(BasePseudoLabeler):
    """Pseudo-label = argmax of the detached prediction, confidence = its probability.

    The classic baseline (Lee, 2013, "Pseudo-label") that the papers' labelers (CPR, DOC)
    refine; it has no parameters and no loss of its own.
    """

    def forward(self, seg_logits: Tensor, features: Tuple[Tensor, ...],
                clip: ClipContext) -> Dict:
        logits = seg_logits.detach()
        if logits.shape[1] == 1:
            p = logits[:, 0].sigmoid()
            labels = (p > 0.5).long()
            confidence = p.maximum(1 - p)
        else:
            probs = logits.softmax(dim=1)
            confidence, labels = probs.max(dim=1)
        return dict(labels=labels, confidence=confidence, losses={})
