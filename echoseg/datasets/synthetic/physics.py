"""Ultrasound image formation in beam coordinates, from echogenicity to display gray levels.

Complex Gaussian scatterers times the square root of the backscattered power, convolved
with an anisotropic point-spread function, scaled by the depth attenuation that the
time-gain compensation leaves, acoustic shadows and the beams' sensitivity, plus
electronic noise and near-field clutter; the envelope is log-compressed to gray levels.
The scatterer field is a fixed per-video field mixed with fresh noise in every frame
(partly correlated speckle).
"""
import math
from typing import Callable, Optional

import cv2
import numpy as np

from .common import smooth01
from .scan_conversion import SectorGrid


def fixed_scatterers(rng: np.random.Generator, grid: SectorGrid) -> np.ndarray:
    """The per-video scatterer field: (n_r, n_t, 2) complex Gaussian (real, imaginary)."""
    return rng.standard_normal((grid.n_r, grid.n_t, 2), dtype=np.float32)


class EchoImaging:
    """Forms the beam images of one video.

    Args:
        plan: the video's :class:`~.plan.SyntheticVideoPlan`.
        grid: its :class:`~.scan_conversion.SectorGrid`.
        fixed: its :func:`fixed_scatterers`.
        noise_rng: the per-frame scatterers and electronic noise, drawn frame by frame.
        clutter_lateral: the near-field haze's gain as a function of the beam angle
            (realistic style), None for a uniform haze.
    """

    def __init__(self, plan, grid: SectorGrid, fixed: np.ndarray,
                 noise_rng: np.random.Generator,
                 clutter_lateral: Optional[Callable[[np.ndarray], np.ndarray]] = None):
        look, knobs = plan.look, plan.look['knobs']
        self.grid, self.fixed, self.noise_rng = grid, fixed, noise_rng
        n_r, n_t, pr, pt = grid.n_r, grid.n_t, grid.pr, grid.pt
        R, half = grid.radius, grid.half

        # PSF in beam coordinates, normalised so a unit-echogenicity field has unit power
        self.sig_ax = max(knobs['psf_axial_mm'] * grid.sub / grid.dr, 0.3)
        self.sig_lat = max(math.radians(knobs['psf_lateral_deg']) / grid.dt, 0.3)
        delta = np.zeros((41, 41), np.float32)
        delta[20, 20] = 1.0
        kern = cv2.GaussianBlur(delta, (0, 0), sigmaX=self.sig_lat, sigmaY=self.sig_ax)
        psf_gain = 1.0 / math.sqrt(float((kern ** 2).sum()))

        # depth / angle dependent gains (amplitude, dB)
        rr = pr / R
        att_db = look['attenuation_db']
        tgc_frac = 1.0 - knobs['residual_attenuation_db'] / att_db
        ripple = sum(a * np.sin((i + 1) * np.pi * rr) for i, a in enumerate(look['tgc_ripple']))
        echo_db = -knobs['residual_attenuation_db'] * rr + ripple \
            - 3.0 * (pt / half) ** 4  # beam sensitivity falls off at the sector edges
        for sh in look['shadows']:
            win = smooth01(1.0 - np.abs(pt - sh['theta']) / sh['width'])
            echo_db = echo_db - sh['db'] * win * smooth01((pr - sh['start']) / 4.0)
        echo_gain = (10.0 ** (echo_db / 20.0)).astype(np.float32)
        self.gain = (psf_gain * echo_gain)[..., None]
        noise_amp = (10.0 ** ((knobs['noise_db'] - tgc_frac * att_db * (1.0 - rr)) / 20.0)
                     * np.ones_like(pt)).astype(np.float32)
        self.noise_amp = noise_amp[..., None]
        clutter = (10.0 ** (knobs['clutter_db'] / 10.0) * np.exp(-pr / look['clutter_depth'])
                   + 10.0 ** (6.0 / 10.0) * np.exp(-pr / 2.5)).astype(np.float32)
        clutter = np.broadcast_to(clutter, (n_r, n_t))
        if clutter_lateral is not None:   # reverberation haze is patchy across the beams
            clutter = clutter * clutter_lateral(pt)
        self.clutter = clutter
        # white level above the myocardium: the display gain
        self.top_db = -knobs['gain_db'] if plan.realistic else look['headroom_db']
        self.dyn = knobs['dynamic_range_db']
        mem = knobs['speckle_memory']
        self.a_fixed, self.a_new = math.sqrt(mem), math.sqrt(1.0 - mem)

    def frame(self, e_db: np.ndarray) -> np.ndarray:
        """(n_r, n_t) float32 gray levels in [0, 255] of a frame whose pixels have
        echogenicity ``e_db`` (H, W); draws the frame's fresh scatterers and noise."""
        grid, rng = self.grid, self.noise_rng
        shape = (grid.n_r, grid.n_t, 2)
        power = np.exp(e_db * np.float32(math.log(10.0) / 10.0))
        power_polar = grid.to_beams(power) + self.clutter
        scat = self.a_fixed * self.fixed + self.a_new * rng.standard_normal(
            shape, dtype=np.float32)
        sig = scat * np.sqrt(power_polar)[..., None]
        sig = cv2.GaussianBlur(sig, (0, 0), sigmaX=self.sig_lat, sigmaY=self.sig_ax)
        sig *= self.gain
        sig += self.noise_amp * rng.standard_normal(shape, dtype=np.float32)
        env2 = sig[..., 0] * sig[..., 0] + sig[..., 1] * sig[..., 1]
        db = 10.0 * np.log10(env2 + 1e-12)           # 20 log10 |envelope|
        gray = (db - (self.top_db - self.dyn)) * (255.0 / self.dyn)
        np.clip(gray, 0.0, 255.0, out=gray)
        return gray
