"""Interface of the ``clip_mixer`` slot of ``EchoVideoSegmentor``."""
from abc import ABCMeta, abstractmethod
from typing import Callable, Tuple

from mmengine.model import BaseModule
from torch import Tensor

from ..utils import ClipContext


class BaseClipMixer(BaseModule, metaclass=ABCMeta):
    """Builds mixed training clips before the backbone sees them (training only).

    Called as ``inputs, clip = clip_mixer(inputs, clip, predict_fn)`` where
        inputs: (B, T, C, H, W) normalised clips;
        clip: the batch's :class:`ClipContext`; the mixer returns a new one whose
            ``gt_masks`` and ``labelled`` describe the mixed clips (the segmentor takes its
            supervised targets from there);
        predict_fn: ``predict_fn(inputs) -> (B, T, K, H, W)`` class probabilities from the
            current model without gradient, for mixers that cut along predicted regions.
    """

    @abstractmethod
    def forward(self, inputs: Tensor, clip: ClipContext,
                predict_fn: Callable[[Tensor], Tensor]) -> Tuple[Tensor, ClipContext]:
        """Return the mixed inputs and their clip context."""
