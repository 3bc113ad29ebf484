from .blur import RandomClipBlur
from .clip_sampling import SampleClipFrames, ed_to_es_indices
from .compose import load_clip
from .depth_fade import RandomDepthFade
from .formatting import PackEchoInputs
from .geometric import RandomClipFlip, RandomClipRotation, RandomClipScale, ResizeClip
from .loading import LoadEchoAnnotations, LoadEchoVideo, apply_label_map
from .photometric import RandomClipContrast, RandomClipGamma
from .sector_mask import RandomSectorMask
from .speckle_noise import RandomSpeckleNoise
from .time_gain_compensation import RandomTimeGainCompensation

__all__ = [
    'LoadEchoVideo', 'LoadEchoAnnotations', 'apply_label_map', 'SampleClipFrames',
    'ed_to_es_indices', 'ResizeClip', 'RandomClipFlip', 'RandomClipScale',
    'RandomClipRotation', 'RandomClipGamma', 'RandomClipContrast', 'RandomSpeckleNoise',
    'RandomTimeGainCompensation', 'RandomDepthFade', 'RandomClipBlur', 'RandomSectorMask',
    'PackEchoInputs', 'load_clip'
]
