"""``RandomTimeGainCompensation``: overall gain and a smooth gain curve over depth."""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from echoseg.registry import TRANSFORMS
from .geometric import _RandomClipTransform


def depth_map(height: int, width: int, apex: Optional[Sequence[float]] = None) -> np.ndarray:
    """Depth of every pixel as its distance from the transducer ``apex`` (row, col; default
    the top centre, as in apical views) divided by the image height: 0 at the apex, about 1
    at the bottom row."""
    ar, ac = (0.0, (width - 1) / 2.0) if apex is None else (float(apex[0]), float(apex[1]))
    rows = np.arange(height, dtype=np.float32)[:, None] - ar
    cols = np.arange(width, dtype=np.float32)[None, :] - ac
    return np.sqrt(rows * rows + cols * cols) / np.float32(height)


@TRANSFORMS.register_module()
class RandomTimeGainCompensation(_RandomClipTransform):
    """Scale intensities by ``10 ** (g(d) / 20)``, a gain in dB that depends on the depth
    ``d`` (:func:`depth_map`), as the scanner's gain and time-gain-compensation sliders do.

    ``g(d) = gain + slope * d + curve(d)``: ``gain`` (``gain_db_range``) and ``slope``
    (``slope_db_range``, dB from the apex to depth 1) are drawn once per clip, ``curve`` is
    the linear interpolation of ``num_knots`` values drawn from ``knot_db_range`` at evenly
    spaced depths in [0, 1] (held constant beyond). The same curve applies to every frame;
    masks are not touched; intensities are clipped to [0, 255].
    """

    def __init__(self, prob: float = 0.5, gain_db_range: Tuple[float, float] = (-4.0, 4.0),
                 slope_db_range: Tuple[float, float] = (-6.0, 6.0),
                 knot_db_range: Tuple[float, float] = (-2.0, 2.0), num_knots: int = 5,
                 apex: Optional[Sequence[float]] = None, seed: Optional[int] = None):
        super().__init__(prob, seed)
        if int(num_knots) < 2:
            raise ValueError(f'{type(self).__name__}: num_knots must be >= 2, got {num_knots}')
        self.gain_db_range = gain_db_range
        self.slope_db_range = slope_db_range
        self.knot_db_range = knot_db_range
        self.num_knots = int(num_knots)
        self.apex = apex

    def apply(self, results: Dict) -> Dict:
        gain = float(self.rng.uniform(*self.gain_db_range))
        slope = float(self.rng.uniform(*self.slope_db_range))
        knots = [float(self.rng.uniform(*self.knot_db_range)) for _ in range(self.num_knots)]
        video = results['video'].astype(np.float32)
        depth = depth_map(video.shape[1], video.shape[2], self.apex)
        curve = gain + slope * depth + np.interp(
            depth, np.linspace(0.0, 1.0, self.num_knots), knots).astype(np.float32)
        results['video'] = np.clip(video * (10.0 ** (curve / 20.0))[None], 0, 255)
        results['aug_tgc'] = dict(gain_db=gain, slope_db=slope, knots_db=knots)
        return results
