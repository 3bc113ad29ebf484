from .base_clip_mixer import BaseClipMixer
from .rac_mixer import RACMixer

__all__ = ['BaseClipMixer', 'RACMixer']
