"""The one convention by which temporal modules learn the clip shape.

``EchoVideoSegmentor`` runs every backbone, neck and head on frames folded into the batch:
a feature map is (B*T, C, h, w), frames of one clip contiguous (clip-major order). A module
that needs time declares the class attribute ``temporal = True``; the segmentor then calls

    neck(features, clip=clip)                 # necks
    head.loss_clip(features, clip, samples)   # decode heads, training
    head.predict_clip(features, clip)         # decode heads, inference

with ``clip`` a :class:`ClipContext`. Stock mmseg modules (no ``temporal`` attribute) are
called exactly as mmseg calls them, per frame. ``clip.unfold(x)`` gives (B, T, ...) and
``clip.fold(x)`` goes back.
"""
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import torch
from torch import Tensor


@dataclass
class ClipContext:
    """What a temporal module may know about the clips in a batch.

    Attributes:
        batch_size: B, the number of clips.
        num_frames: T, frames per clip.
        labelled: (B, T) bool, frames that carry a real mask.
        gt_masks: (B, T, H, W) long at input resolution (training only; unlabelled frames
            hold the ignore index). Modules must not read masks of unlabelled frames.
        input_shape: (H, W) of the network input.
        data_samples: the ``EchoDataSample`` list (metainfo, for modules that need it).
        extras: a scratch dict the segmentor fills for pseudo-labelers and clip mixers
            (for example ``'features'``); modules may add entries for later stages.
    """

    batch_size: int
    num_frames: int
    labelled: Tensor
    gt_masks: Optional[Tensor] = None
    input_shape: Optional[tuple] = None
    data_samples: Optional[List[Any]] = None
    extras: Dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if tuple(self.labelled.shape) != (self.batch_size, self.num_frames):
            raise ValueError(f'ClipContext.labelled must be (B, T)=({self.batch_size}, '
                             f'{self.num_frames}), got {tuple(self.labelled.shape)}')
        self.labelled = self.labelled.bool()

    def unfold(self, x: Tensor) -> Tensor:
        """(B*T, ...) -> (B, T, ...)."""
        if x.shape[0] != self.batch_size * self.num_frames:
            raise ValueError(f'expected a first dimension of B*T='
                             f'{self.batch_size * self.num_frames}, got {x.shape[0]}')
        return x.reshape(self.batch_size, self.num_frames, *x.shape[1:])

    def fold(self, x: Tensor) -> Tensor:
        """(B, T, ...) -> (B*T, ...)."""
        return x.reshape(self.batch_size * self.num_frames, *x.shape[2:])

    @property
    def labelled_flat(self) -> Tensor:
        """(B*T,) bool over folded frames."""
        return self.labelled.reshape(-1)

    @property
    def device(self) -> torch.device:
        return self.labelled.device


def is_temporal(module: Any) -> bool:
    """True for a module that follows the temporal calling convention above."""
    return bool(getattr(module, 'temporal', False))
