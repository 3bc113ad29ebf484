"""Base class for decode heads that see the whole clip."""
from abc import abstractmethod
from typing import Dict, List, Tuple

from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from torch import Tensor

from ..utils import ClipContext


class BaseTemporalDecodeHead(BaseDecodeHead):
    """An mmseg decode head that follows echoseg's temporal convention.

    Subclasses implement ``forward(inputs, clip)`` returning (B*T, K, h, w) logits for every
    frame. ``loss_clip`` supervises only the labelled frames, with mmseg's own
    ``loss_by_feat`` (so ``loss_decode`` configs work unchanged); heads with deep
    supervision override it.
    """

    temporal = True

    @abstractmethod
    def forward(self, inputs: Tuple[Tensor, ...], clip: ClipContext) -> Tensor:
        """(B*T, C, h, w) features -> (B*T, K, h', w') logits."""

    def remove_conv_seg(self) -> None:
        """For heads whose logits do not come from ``conv_seg``: mmseg's BaseDecodeHead
        always builds it (and its default init_cfg initialises it by name)."""
        del self.conv_seg
        self.conv_seg = None
        override = (self.init_cfg or {}).get('override') \
            if isinstance(self.init_cfg, dict) else None
        if isinstance(override, dict) and override.get('name') == 'conv_seg':
            self.init_cfg = None

    def loss_clip(self, inputs: Tuple[Tensor, ...], clip: ClipContext,
                  labelled_samples: List) -> Tuple[Dict[str, Tensor], Tensor]:
        """Return (losses on labelled frames, logits of every frame)."""
        seg_logits = self.forward(inputs, clip)
        losses = self.loss_by_feat(seg_logits[clip.labelled_flat], labelled_samples)
        return losses, seg_logits

    def predict_clip(self, inputs: Tuple[Tensor, ...], clip: ClipContext) -> Tensor:
        """(B*T, K, h', w') logits of every frame."""
        return self.forward(inputs, clip)
