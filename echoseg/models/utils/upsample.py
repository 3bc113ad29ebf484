"""How a neck offers logit upsampling to the heads and the segmentor.

A neck may leave a callable ``up(logits, frames=None)`` in ``clip.extras`` under
:data:`LOGIT_UPSAMPLER_KEY` (``MRPNeck`` leaves its region-proxy upsampler there);
:func:`upsample_logits` sends a head's logits through it when one is there.
"""
from typing import Optional

from torch import Tensor

#: the ``ClipContext.extras`` key under which a neck offers logit upsampling to the heads
LOGIT_UPSAMPLER_KEY = 'logit_upsampler'


def upsample_logits(clip, logits: Tensor, frames: Optional[Tensor] = None) -> Tensor:
    """``logits`` through the clip's upsampler when a neck left one, else unchanged."""
    up = clip.extras.get(LOGIT_UPSAMPLER_KEY) if clip is not None else None
    return logits if up is None else up(logits, frames)
