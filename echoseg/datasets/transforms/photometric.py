"""Photometric clip transforms: one random draw per clip, intensities stay in [0, 255]."""
from typing import Dict, Optional, Tuple

import numpy as np

from echoseg.registry import TRANSFORMS
from .geometric import _RandomClipTransform


@TRANSFORMS.register_module()
class RandomClipGamma(_RandomClipTransform):
    """Gamma correction ``255 * (v / 255) ** gamma`` with gamma from ``gamma_range``."""

    def __init__(self, prob: float = 0.5, gamma_range: Tuple[float, float] = (0.7, 1.5),
                 seed: Optional[int] = None):
        super().__init__(prob, seed)
        self.gamma_range = gamma_range

    def apply(self, results: Dict) -> Dict:
        gamma = float(self.rng.uniform(*self.gamma_range))
        v = np.clip(results['video'].astype(np.float32), 0, 255) / 255.0
        results['video'] = (255.0 * np.power(v, gamma)).astype(np.float32)
        results['aug_gamma'] = gamma
        return results


@TRANSFORMS.register_module()
class RandomClipContrast(_RandomClipTransform):
    """Contrast about the clip mean: ``mean + c * (v - mean)``, c from ``contrast_range``."""

    def __init__(self, prob: float = 0.5, contrast_range: Tuple[float, float] = (0.7, 1.3),
                 seed: Optional[int] = None):
        super().__init__(prob, seed)
        self.contrast_range = contrast_range

    def apply(self, results: Dict) -> Dict:
        c = float(self.rng.uniform(*self.contrast_range))
        v = results['video'].astype(np.float32)
        mean = float(v.mean())
        results['video'] = np.clip(mean + c * (v - mean), 0, 255).astype(np.float32)
        results['aug_contrast'] = c
        return results
