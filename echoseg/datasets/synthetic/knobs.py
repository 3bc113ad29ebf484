"""Difficulty levels and the appearance knobs they set, with their per-video jitter."""
from typing import Dict, Optional, Union

import numpy as np

from .common import STYLES, check_choice

__all__ = ['DIFFICULTY_LEVELS', 'resolve_difficulty', 'difficulty_knobs']

#: named difficulty levels and the float in [0, 1] each stands for
DIFFICULTY_LEVELS = {'easy': 0.0, 'medium': 0.5, 'hard': 1.0}


def resolve_difficulty(difficulty: Union[str, float]) -> float:
    """``'easy'|'medium'|'hard'`` or a float in [0, 1] -> float in [0, 1]."""
    if isinstance(difficulty, str):
        if difficulty not in DIFFICULTY_LEVELS:
            raise ValueError(f'difficulty must be one of {sorted(DIFFICULTY_LEVELS)} or a '
                             f'float in [0, 1], got {difficulty!r}')
        return DIFFICULTY_LEVELS[difficulty]
    d = float(difficulty)
    if not 0.0 <= d <= 1.0:
        raise ValueError(f'difficulty must lie in [0, 1], got {d}')
    return d


def difficulty_knobs(difficulty: Union[str, float],
                     style: str = 'realistic') -> Dict[str, float]:
    """The nominal appearance knobs at a difficulty (before the per-video jitter).

    Levels are in dB of backscattered power relative to the myocardium (0 dB). ``style``
    is ``'realistic'`` (the default look, fitted to real apical views with
    ``tools/experiments/fit_synthetic_appearance.py``) or ``'classic'`` (the first look:
    bright tissue around dark chambers).
    """
    d = resolve_difficulty(difficulty)
    check_choice('style', style, STYLES)
    if style == 'classic':
        return dict(
            blood_db=-36.0 + 14.0 * d,          # blood in the cavities: the LV/wall contrast
            tissue_db=-9.0,                     # tissue around the heart
            clutter_db=-36.0 + 20.0 * d,        # near-field haze at the transducer (apex)
            noise_db=-42.0 + 16.0 * d,          # electronic noise at full depth, after TGC
            speckle_memory=0.85 - 0.35 * d,     # share of scatterer power kept frame to frame
            psf_axial_mm=0.45 + 0.35 * d,       # PSF sigma along the beam
            psf_lateral_deg=0.7 + 0.7 * d,      # PSF sigma across beams (grows with depth)
            residual_attenuation_db=3.0 + 10.0 * d,  # depth loss that TGC leaves at full depth
            dropout_rate=0.3 + 2.7 * d,         # expected number of dropped wall segments
            dropout_strength=0.45 + 0.5 * d,    # 0: none, 1: the wall looks like blood
            shadow_rate=0.2 + 1.3 * d,          # expected number of acoustic shadows
            shadow_db=6.0 + 16.0 * d,           # attenuation inside a shadow
            irregularity=0.012 + 0.028 * d,     # relative amplitude of the endocardial ripple
            motion_mm=0.3 + 1.5 * d,            # rigid probe / breathing motion amplitude
            dynamic_range_db=52.0 - 4.0 * d,    # log-compression range
        )
    return dict(
        blood_db=-46.0 + 16.0 * d,          # blood in the cavities: the LV/wall contrast
        tissue_db=-11.0,                    # mean level of the tissue around the heart
        clutter_db=-26.0 + 18.0 * d,        # near-field haze at the transducer (apex)
        noise_db=-48.0 + 16.0 * d,          # electronic noise at full depth, after TGC
        speckle_memory=0.85 - 0.35 * d,     # share of scatterer power kept frame to frame
        psf_axial_mm=0.3 + 0.3 * d,         # PSF sigma along the beam
        psf_lateral_deg=0.9 + 0.7 * d,      # PSF sigma across beams (grows with depth)
        residual_attenuation_db=5.0 + 12.0 * d,  # depth loss that TGC leaves at full depth
        dropout_rate=0.5 + 3.0 * d,         # expected number of dropped wall segments
        dropout_strength=0.5 + 0.45 * d,    # 0: none, 1: the wall looks like blood
        shadow_rate=0.2 + 1.3 * d,          # expected number of acoustic shadows
        shadow_db=6.0 + 16.0 * d,           # attenuation inside a shadow
        irregularity=0.015 + 0.035 * d,     # relative amplitude of the endocardial ripple
        motion_mm=0.3 + 1.5 * d,            # rigid probe / breathing motion amplitude
        dynamic_range_db=50.0 - 4.0 * d,    # log-compression range
        gain_db=-22.0,                      # display gain: myocardium vs white (log domain)
        foreshortening=0.05 + 0.3 * d,      # probability of a foreshortened (short) LV
    )


# per-video jitter of each knob: ('add', half-width) or ('mul', relative half-width)
KNOB_JITTER = dict(
    blood_db=('add', 3.0), tissue_db=('add', 2.0), clutter_db=('add', 3.0),
    noise_db=('add', 3.0), speckle_memory=('add', 0.05), psf_axial_mm=('mul', 0.15),
    psf_lateral_deg=('mul', 0.15), residual_attenuation_db=('mul', 0.3),
    dropout_strength=('add', 0.05), shadow_db=('mul', 0.2), irregularity=('mul', 0.3),
    motion_mm=('mul', 0.3), dynamic_range_db=('add', 4.0))
# the realistic look is jittered more widely (scanners, patients and settings differ)
KNOB_JITTER_REALISTIC = dict(
    KNOB_JITTER, blood_db=('add', 5.0), tissue_db=('add', 6.0), clutter_db=('add', 7.0),
    noise_db=('add', 4.0), psf_axial_mm=('mul', 0.25), psf_lateral_deg=('mul', 0.25),
    residual_attenuation_db=('mul', 0.5), irregularity=('mul', 0.4),
    dynamic_range_db=('add', 6.0), gain_db=('add', 5.0))

# CAMUS images are displayed brighter and with less contrast than EchoNet-Dynamic's videos
# (sector mean gray level 108, std 41 vs 30-60, 51; tools/experiments/fit_synthetic_appearance.py)
CAMUS_DISPLAY = dict(gain_db=6.0, dynamic_range_db=24.0)


def generator_knobs(difficulty: float, style: str, geometry: str,
                    overrides: Optional[Dict[str, float]] = None) -> Dict[str, float]:
    """The nominal knobs of a generator: those of the difficulty, CAMUS's display for the
    realistic CAMUS geometry, then ``overrides`` (names of :func:`difficulty_knobs`)."""
    knobs = difficulty_knobs(difficulty, style)
    if style == 'realistic' and geometry == 'camus':
        knobs['gain_db'] += CAMUS_DISPLAY['gain_db']
        knobs['dynamic_range_db'] += CAMUS_DISPLAY['dynamic_range_db']
    unknown = set(overrides or {}) - set(knobs)
    if unknown:
        raise KeyError(f'unknown synthetic-echo knobs {sorted(unknown)} for style '
                       f'{style!r}; known: {sorted(knobs)}')
    knobs.update({k: float(v) for k, v in (overrides or {}).items()})
    return knobs


def video_knobs(knobs: Dict[str, float], rng: np.random.Generator, jitter: bool,
                realistic: bool) -> Dict[str, float]:
    """One video's knobs: the nominal ones jittered with ``rng`` (unless ``jitter`` is
    False), the fractions clipped to [0, 1]."""
    knobs = dict(knobs)
    if jitter:
        table = KNOB_JITTER_REALISTIC if realistic else KNOB_JITTER
        for k, (kind, w) in table.items():
            u = float(rng.uniform(-1.0, 1.0))
            knobs[k] = knobs[k] + w * u if kind == 'add' else knobs[k] * (1.0 + w * u)
    knobs['speckle_memory'] = float(np.clip(knobs['speckle_memory'], 0.0, 1.0))
    knobs['dropout_strength'] = float(np.clip(knobs['dropout_strength'], 0.0, 1.0))
    return knobs
