"""``RandomDepthFade``: the far field fades (attenuation the gain does not make up)."""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from echoseg.registry import TRANSFORMS
from .geometric import _RandomClipTransform
from .time_gain_compensation import depth_map


@TRANSFORMS.register_module()
class RandomDepthFade(_RandomClipTransform):
    """Darken the deep part of every frame: ``v * (1 - strength * ramp(d))``.

    ``ramp`` rises smoothly (raised cosine) from 0 at depth ``start`` to 1 at depth 1
    (:func:`~echoseg.datasets.transforms.time_gain_compensation.depth_map`: 0 at the
    transducer, about 1 at the bottom row) and stays 1 beyond; ``start`` and ``strength``
    are drawn once per clip from ``start_range`` and ``strength_range`` (in [0, 1]).
    Pixels shallower than ``start`` are unchanged; masks are not touched.
    """

    def __init__(self, prob: float = 0.5, start_range: Tuple[float, float] = (0.4, 0.8),
                 strength_range: Tuple[float, float] = (0.2, 0.7),
                 apex: Optional[Sequence[float]] = None, seed: Optional[int] = None):
        super().__init__(prob, seed)
        for name, rng in (('start_range', start_range), ('strength_range', strength_range)):
            if not 0.0 <= min(rng) <= max(rng) <= 1.0:
                raise ValueError(f'{type(self).__name__}: {name} must lie in [0, 1], '
                                 f'got {rng}')
        self.start_range = start_range
        self.strength_range = strength_range
        self.apex = apex

    def apply(self, results: Dict) -> Dict:
        start = float(self.rng.uniform(*self.start_range))
        strength = float(self.rng.uniform(*self.strength_range))
        video = results['video'].astype(np.float32)
        depth = depth_map(video.shape[1], video.shape[2], self.apex)
        x = np.clip((depth - start) / max(1.0 - start, 1e-6), 0.0, 1.0)
        ramp = 0.5 - 0.5 * np.cos(np.pi * x)
        results['video'] = np.clip(video * (1.0 - strength * ramp)[None], 0, 255)
        results['aug_depth_fade'] = (start, strength)
        return results
