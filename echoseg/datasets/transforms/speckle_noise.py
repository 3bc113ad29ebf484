"""``RandomSpeckleNoise``: multiplicative, spatially correlated speckle-like noise."""
from typing import Dict, Optional, Tuple

import cv2
import numpy as np

from echoseg.registry import TRANSFORMS
from .geometric import _RandomClipTransform


@TRANSFORMS.register_module()
class RandomSpeckleNoise(_RandomClipTransform):
    """Multiply every frame by log-normal noise of unit mean: ``v * exp(s * z - s^2 / 2)``.

    ``z`` is white Gaussian noise smoothed over ``grain`` pixels (the speckle size) and
    rescaled to unit variance, drawn afresh for every frame (speckle decorrelates over
    time); ``s`` (``sigma_range``) and ``grain`` (``grain_range``) are drawn once per clip.
    The relative standard deviation of the noise is ``sqrt(exp(s^2) - 1)``. Masks are not
    touched; intensities are clipped to [0, 255].
    """

    def __init__(self, prob: float = 0.5, sigma_range: Tuple[float, float] = (0.1, 0.4),
                 grain_range: Tuple[float, float] = (0.5, 1.5), seed: Optional[int] = None):
        super().__init__(prob, seed)
        if min(sigma_range) < 0 or min(grain_range) < 0:
            raise ValueError(f'{type(self).__name__}: sigma_range and grain_range must be '
                             f'non-negative, got {sigma_range}, {grain_range}')
        self.sigma_range = sigma_range
        self.grain_range = grain_range

    def apply(self, results: Dict) -> Dict:
        sigma = float(self.rng.uniform(*self.sigma_range))
        grain = float(self.rng.uniform(*self.grain_range))
        video = results['video'].astype(np.float32)
        out = np.empty_like(video)
        for t, frame in enumerate(video):
            z = self.rng.standard_normal(frame.shape).astype(np.float32)
            if grain > 0:
                z = cv2.GaussianBlur(z, (0, 0), grain)
                z /= max(float(z.std()), 1e-6)
            out[t] = frame * np.exp(sigma * z - 0.5 * sigma * sigma)
        results['video'] = np.clip(out, 0, 255)
        results['aug_speckle'] = (sigma, grain)
        return results
