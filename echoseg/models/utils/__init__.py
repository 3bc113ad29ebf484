from .clip_context import ClipContext, is_temporal
from .video_memory import VideoMemory, video_memory_of

__all__ = ['ClipContext', 'is_temporal', 'VideoMemory', 'video_memory_of']
