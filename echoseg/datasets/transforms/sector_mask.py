"""``RandomSectorMask``: hide everything outside a random imaging fan."""
from typing import Dict, Optional, Tuple

import numpy as np

from echoseg.registry import TRANSFORMS
from .geometric import _RandomClipTransform


def fan_mask(height: int, width: int, apex_row: float, apex_col: float, half_angle_deg: float,
             radius: float) -> np.ndarray:
    """(H, W) bool: pixels within ``radius`` pixels of the apex and ``half_angle_deg`` of
    the vertical through it (a fan opening downwards)."""
    rows = np.arange(height, dtype=np.float64)[:, None] - apex_row
    cols = np.arange(width, dtype=np.float64)[None, :] - apex_col
    angle = np.degrees(np.arctan2(np.abs(cols), rows))
    return (np.hypot(rows, cols) <= radius) & (rows >= 0) & (angle <= half_angle_deg)


@TRANSFORMS.register_module()
class RandomSectorMask(_RandomClipTransform):
    """Set pixels outside a fan to ``fill``, as a scanner with another sector width, depth
    or probe position would show the same heart.

    The fan's apex is at row ``apex_row`` and at the centre column shifted by a fraction
    of the width drawn from ``shift_range``; its half-angle (degrees) from
    ``half_angle_range`` and its radius (a fraction of the image height) from
    ``radius_range`` are drawn once per clip. Masks are not touched (the anatomy is still
    there, only unseen); the fan is recorded in ``results['aug_sector']``.
    """

    def __init__(self, prob: float = 0.5, half_angle_range: Tuple[float, float] = (32.0, 50.0),
                 radius_range: Tuple[float, float] = (0.9, 1.3),
                 shift_range: Tuple[float, float] = (-0.05, 0.05), apex_row: float = 0.0,
                 fill: float = 0.0, seed: Optional[int] = None):
        super().__init__(prob, seed)
        if not 0.0 < min(half_angle_range) <= max(half_angle_range) <= 90.0:
            raise ValueError(f'{type(self).__name__}: half_angle_range must lie in (0, 90], '
                             f'got {half_angle_range}')
        self.half_angle_range = half_angle_range
        self.radius_range = radius_range
        self.shift_range = shift_range
        self.apex_row = float(apex_row)
        self.fill = float(fill)

    def apply(self, results: Dict) -> Dict:
        half = float(self.rng.uniform(*self.half_angle_range))
        radius = float(self.rng.uniform(*self.radius_range))
        shift = float(self.rng.uniform(*self.shift_range))
        video = results['video'].astype(np.float32)
        h, w = video.shape[1:3]
        apex_col = (w - 1) / 2.0 + shift * w
        inside = fan_mask(h, w, self.apex_row, apex_col, half, radius * h)
        video[:, ~inside] = self.fill
        results['video'] = np.clip(video, 0, 255)
        results['aug_sector'] = dict(apex=(self.apex_row, apex_col), half_angle_deg=half,
                                     radius=radius * h)
        return results
