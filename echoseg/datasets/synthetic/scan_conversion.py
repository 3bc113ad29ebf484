"""The sector: its per-video layout, and the grids and remaps between beams and pixels.

Echoes are simulated in beam (polar) coordinates, rows along the beam (depth) and columns
across the beams (angle), and scan-converted to the Cartesian frame, whose apex (the
transducer) is at the top.
"""
import math
from typing import Dict, Sequence, Tuple

import cv2
import numpy as np


def draw_sector(rng: np.random.Generator, depth: float, image_size: Sequence[int], style: str,
                geometry: str) -> Tuple[Dict[str, object], Tuple[float, float], float]:
    """Sector (apex pixel, radius, half-angle), pixel spacing (row, col mm) and half-angle
    (radians) of one video of sector depth ``depth`` mm."""
    H, W = image_size
    if style == 'classic':
        half = math.radians(float(rng.uniform(34.0, 42.0)))
        apex_row, apex_col = 1.0, (W - 1) / 2.0
        row_mm = depth / (H - 2.0 - apex_row)
        col_mm = row_mm * float(rng.uniform(0.95, 1.15))
    elif geometry == 'echonet':
        # EchoNet-Dynamic: a wide fan whose apex sits a few rows down (so the arc cuts
        # the bottom corners, leaving about 60 % of the bottom row), a little right of
        # the centre; its sides are cut by the frame
        half = math.radians(float(rng.uniform(40.0, 47.0)))
        apex_row = float(rng.uniform(0.05, 0.09)) * (H - 1)
        apex_col = (W - 1) / 2.0 + float(rng.uniform(0.02, 0.07)) * W
        row_mm = depth / (H - 3.0)
        col_mm = row_mm * float(rng.uniform(0.95, 1.1))
    else:
        # CAMUS: the whole fan inside the frame, square pixels where the width allows
        half = math.radians(float(rng.uniform(35.0, 40.0)))
        apex_row, apex_col = float(rng.uniform(0.0, 0.02)) * (H - 1), (W - 1) / 2.0
        row_mm = depth / (H - 2.0 - apex_row)
        col_mm = max(row_mm, depth * math.sin(half) / ((W - 1) / 2.0 - 1.0))
    sector = dict(apex=(apex_row, apex_col), radius_mm=depth,
                  half_angle_deg=math.degrees(half))
    return sector, (row_mm, col_mm), half


class SectorGrid:
    """The pixel grid of a video in mm, its beam grid and the remap tables between them.

    Attributes: ``X``, ``Y`` (H, W) mm from the transducer (x right, y depth); ``rho``,
    ``theta`` their polar coordinates; ``inside`` the sector's pixels; ``pr`` (n_r, 1)
    depths and ``pt`` (1, n_t) angles of the beam samples, ``dr``/``dt`` their steps;
    ``sub``: beam samples per pixel row along the beam.

    The beam grid is slightly larger than the sector. With ``fine_beams`` (the realistic
    style), where a pixel is coarser than the pulse (EchoNet), the echo is sampled ``sub``
    times finer along the beam and displayed on rows ``sub`` times finer that are averaged
    back, as a scanner image shrunk to the video (short grains, no deep speckle nulls).
    """

    def __init__(self, image_size: Sequence[int], spacing: Sequence[float],
                 sector: Dict[str, object], fine_beams: bool):
        H, W = image_size
        row_mm, col_mm = spacing
        R = float(sector['radius_mm'])
        half = math.radians(sector['half_angle_deg'])
        ar, ac = sector['apex']
        self.shape = (H, W)
        self.radius, self.half = R, half

        # Cartesian grid in mm from the transducer (x right, y depth)
        ys = ((np.arange(H, dtype=np.float32) - ar) * row_mm)[:, None]
        xs = ((np.arange(W, dtype=np.float32) - ac) * col_mm)[None, :]
        self.X = X = np.broadcast_to(xs, (H, W))
        self.Y = Y = np.broadcast_to(ys, (H, W))
        self.rho = rho = np.sqrt(X * X + Y * Y)
        self.theta = theta = np.arctan2(X, Y)
        self.inside = (rho <= R) & (np.abs(theta) <= half)

        # beam (polar) grid slightly larger than the sector, and the two remap tables
        n_r, n_t = H, W
        r_ext, half_ext = R * (1.0 + 2.0 / n_r), half * (1.0 + 2.0 / n_t)
        dr, dt = r_ext / (n_r - 1), 2.0 * half_ext / (n_t - 1)
        sub = int(np.clip(round(dr / 0.6), 1, 3)) if fine_beams else 1
        pr = (np.arange(n_r * sub, dtype=np.float32) * np.float32(dr / sub))[:, None]
        pt = (np.arange(n_t, dtype=np.float32) * dt - half_ext)[None, :]
        self._to_polar_x = (ac + pr * np.sin(pt) / col_mm).astype(np.float32)
        self._to_polar_y = (ar + pr * np.cos(pt) / row_mm).astype(np.float32)
        if sub > 1:
            yf = ((np.arange(H * sub, dtype=np.float32) + 0.5) / sub - 0.5 - ar) * row_mm
            Yf = np.broadcast_to(yf[:, None], (H * sub, W))
            Xf = np.broadcast_to(xs, (H * sub, W))
            self._to_cart_x = ((np.arctan2(Xf, Yf) + half_ext) / dt).astype(np.float32)
            self._to_cart_y = (np.sqrt(Xf * Xf + Yf * Yf) * (sub / dr)).astype(np.float32)
        else:
            self._to_cart_x = ((theta + half_ext) / dt).astype(np.float32)
            self._to_cart_y = (rho / dr).astype(np.float32)
        self.pr, self.pt, self.dr, self.dt, self.sub = pr, pt, dr, dt, sub
        self.n_r, self.n_t = n_r * sub, n_t

    def to_beams(self, image: np.ndarray) -> np.ndarray:
        """(H, W) float32 pixels -> (n_r, n_t) beam samples (edges replicated)."""
        return cv2.remap(image, self._to_polar_x, self._to_polar_y, cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)

    def to_pixels(self, beams: np.ndarray) -> np.ndarray:
        """(n_r, n_t) beam samples -> (H, W) float pixels (0 beyond the beams)."""
        H, W = self.shape
        cart = cv2.remap(beams.astype(np.float32), self._to_cart_x, self._to_cart_y,
                         cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        if self.sub > 1:
            cart = cart.reshape(H, self.sub, W).mean(1)
        return cart
