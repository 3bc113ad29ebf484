from .clip_context import ClipContext, is_temporal

__all__ = ['ClipContext', 'is_temporal']
