from .clip_context import ClipContext, is_temporal
from .upsample import LOGIT_UPSAMPLER_KEY, upsample_logits
from .video_memory import VideoMemory, video_memory_of

__all__ = [
    'ClipContext', 'is_temporal', 'VideoMemory', 'video_memory_of', 'LOGIT_UPSAMPLER_KEY',
    'upsample_logits'
]
