from .clip_sampling import SampleClipFrames, ed_to_es_indices
from .formatting import PackEchoInputs
from .geometric import RandomClipFlip, RandomClipRotation, RandomClipScale, ResizeClip
from .loading import LoadEchoAnnotations, LoadEchoVideo, apply_label_map
from .photometric import RandomClipContrast, RandomClipGamma

__all__ = [
    'LoadEchoVideo', 'LoadEchoAnnotations', 'apply_label_map', 'SampleClipFrames',
    'ed_to_es_indices', 'ResizeClip', 'RandomClipFlip', 'RandomClipScale',
    'RandomClipRotation', 'RandomClipGamma', 'RandomClipContrast', 'PackEchoInputs'
]
