from .base_clip_mixer import BaseClipMixer

__all__ = ['BaseClipMixer']
