"""``RandomClipBlur``: Gaussian blur, wider across the beams than along them."""
from typing import Dict, Optional, Tuple

import cv2
import numpy as np

from echoseg.registry import TRANSFORMS
from .geometric import _RandomClipTransform


@TRANSFORMS.register_module()
class RandomClipBlur(_RandomClipTransform):
    """Blur every frame with one Gaussian: ``sigma_y`` (rows, along the beam) from
    ``sigma_range`` and ``sigma_x = sigma_y * aspect`` (columns, across the beam), with
    ``aspect`` from ``aspect_range``; both drawn once per clip. Models a poorer lateral and
    axial resolution or a smoothing display. Masks are not touched."""

    def __init__(self, prob: float = 0.5, sigma_range: Tuple[float, float] = (0.3, 1.2),
                 aspect_range: Tuple[float, float] = (1.0, 2.0), seed: Optional[int] = None):
        super().__init__(prob, seed)
        if min(sigma_range) <= 0 or min(aspect_range) <= 0:
            raise ValueError(f'{type(self).__name__}: sigma_range and aspect_range must be '
                             f'positive, got {sigma_range}, {aspect_range}')
        self.sigma_range = sigma_range
        self.aspect_range = aspect_range

    def apply(self, results: Dict) -> Dict:
        sigma_y = float(self.rng.uniform(*self.sigma_range))
        sigma_x = sigma_y * float(self.rng.uniform(*self.aspect_range))
        video = results['video'].astype(np.float32)
        results['video'] = np.stack([
            cv2.GaussianBlur(f, (0, 0), sigmaX=sigma_x, sigmaY=sigma_y,
                             borderType=cv2.BORDER_REFLECT) for f in video])
        results['aug_blur'] = (sigma_y, sigma_x)
        return results
