"""A user's temporal neck: blends every frame's features with the clip's mean."""
from typing import Tuple

from mmengine.model import BaseModule
from torch import Tensor

from echoseg.registry import MODELS


@MODELS.register_module()
class TemporalMeanNeck(BaseModule):
    """out_t = (1 - alpha) * x_t + alpha * mean_t'(x_t') on every feature level.

    ``temporal = True`` tells ``EchoVideoSegmentor`` to pass the ``ClipContext``.
    """

    temporal = True

    def __init__(self, alpha: float = 0.5, init_cfg=None):
        super().__init__(init_cfg)
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f'TemporalMeanNeck: alpha must be in [0, 1], got {alpha}')
        self.alpha = alpha

    def forward(self, feats: Tuple[Tensor, ...], clip) -> Tuple[Tensor, ...]:
        out = []
        for f in feats:
            v = clip.unfold(f)  # (B, T, C, h, w)
            out.append(clip.fold((1 - self.alpha) * v + self.alpha * v.mean(1, keepdim=True)))
        return tuple(out)
