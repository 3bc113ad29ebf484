"""The cardiac cycle: beats over a video, LV contraction and volumes, ED/ES frames, the
mitral valve's opening.

Only the LV's long axis ``L`` and base half-width ``b`` change over the cycle, so the
volume of Simpson's single-plane method of disks, ``V = pi/4 * b^2 * L * int_0^1 D(u)^2 du``
(``D``: the width profile in units of ``b``), is exact for any shape.
"""
import math
from typing import Dict, List, NamedTuple, Tuple

import numpy as np

from .common import smooth01

__all__ = ['cardiac_contraction', 'mitral_opening']


def cardiac_contraction(phase: np.ndarray, systole_fraction: float,
                        early_filling: float = 0.7) -> np.ndarray:
    """Contraction ``c`` in [0, 1] (0 at ED, 1 at ES) at cycle phases (ED at integers).

    Systole (the first ``systole_fraction`` of the cycle) is a raised-cosine ejection; in
    diastole the ventricle refills by ``early_filling`` in the first 40 % (E wave), rests
    (diastasis) and fills the rest in the last 25 % (atrial kick, A wave).
    """
    frac = np.mod(np.asarray(phase, dtype=np.float64), 1.0)
    s = float(systole_fraction)
    c_sys = smooth01(frac / s)
    t = (frac - s) / (1.0 - s)
    filled = early_filling * smooth01(t / 0.4) + (1.0 - early_filling) * smooth01(
        (t - 0.75) / 0.25)
    return np.where(frac < s, c_sys, 1.0 - filled)


def mitral_opening(phase: float, systole_fraction: float) -> float:
    """Opening of the mitral valve in [0, 1]: closed in systole, open in early
    diastole (E), half-closed in diastasis, open again for the atrial kick (A)."""
    frac = float(phase) % 1.0
    t = (frac - systole_fraction - 0.02) / (0.95 - systole_fraction)
    if t <= 0.0 or t >= 1.0:
        return 0.0
    semi = 0.6 * float(smooth01((t - 0.35) / 0.15)) * (1.0 - float(smooth01(
        (t - 0.7) / 0.1)))
    return float(smooth01(t / 0.1)) * (1.0 - semi) * (1.0 - float(smooth01(
        (t - 0.9) / 0.1)))


def lv_axes(heart: Dict[str, object], c, ef):
    """Long axis and base half-width at contraction ``c`` of a beat with EF ``ef``."""
    s_long = (1.0 - ef) ** heart['alpha']
    s_width = np.sqrt((1.0 - ef) / s_long)
    L = heart['L_ed'] * (1.0 - (1.0 - s_long) * c)
    b = heart['b_ed'] * (1.0 - (1.0 - s_width) * c)
    return L, b


def lv_volumes(heart: Dict[str, object], c, ef) -> np.ndarray:
    """True LV volumes (ml) at contractions ``c`` of beats with EFs ``ef``."""
    L, b = lv_axes(heart, np.asarray(c), np.asarray(ef))
    return np.pi / 4.0 * heart['disk_integral'] * b ** 2 * L / 1000.0


class Beats(NamedTuple):
    """Beats covering frames ``[-1, num_frames + 1]`` and each frame's place in them."""
    starts: List[float]         # ED instants (frame units), one more than beats
    lengths: List[float]        # beat lengths (frames)
    phases: np.ndarray          # (N,) beat index + fraction of the beat
    contraction: np.ndarray     # (N,) c in [0, 1]
    beat_ef: np.ndarray         # (N,) EF (fraction) of each frame's beat


def draw_beats(rng: np.random.Generator, num_frames: int, period: float, systole: float,
               phase0: float, ef: float, rr_jitter: float, ef_jitter: float) -> Beats:
    """Beats of mean length ``period`` frames (relative std ``rr_jitter``) and EF ``ef``
    (std ``ef_jitter`` EF points), the video starting at phase ``phase0`` of a beat."""
    starts = [-phase0 * period]
    lengths = []
    while starts[-1] <= num_frames + 1:
        lengths.append(period * (1.0 + rr_jitter * float(rng.normal()))
                       if rr_jitter > 0 else period)
        lengths[-1] = max(lengths[-1], 8.0)
        starts.append(starts[-1] + lengths[-1])
    nb = len(lengths)
    if ef_jitter > 0:
        beat_ef = np.clip(ef + rng.normal(0.0, ef_jitter / 100.0, nb), 0.05, 0.9)
    else:
        beat_ef = np.full(nb, ef)
    t = np.arange(num_frames, dtype=np.float64)
    beat = np.searchsorted(np.asarray(starts), t, side='right') - 1
    beat = np.clip(beat, 0, nb - 1)
    frac = (t - np.asarray(starts)[beat]) / np.asarray(lengths)[beat]
    return Beats(starts, lengths, beat + frac, cardiac_contraction(frac, systole),
                 beat_ef[beat])


def ed_es_frames(beats: Beats, volumes: np.ndarray, systole: float
                 ) -> Tuple[List[int], List[int], List[Tuple[int, int]]]:
    """ED and ES frames of every beat whose ED (ES) instant falls in the video: the
    largest (smallest) volume in a window around the instant; and the (ED, ES) pairs of
    the beats that have both."""
    num_frames = len(volumes)
    starts, lengths = beats.starts, beats.lengths
    ed_frames, es_frames = [], []
    pairs = []
    for n in range(len(lengths)):
        e_t = starts[n]
        s_t = starts[n] + systole * lengths[n]
        ed = es = None
        if -0.5 <= e_t <= num_frames - 0.5:
            lo = max(0, int(math.ceil(e_t - 0.4 * lengths[max(n - 1, 0)])))
            hi = min(num_frames - 1, int(math.floor(e_t + 0.5 * systole * lengths[n])))
            ed = lo + int(np.argmax(volumes[lo:hi + 1]))
            ed_frames.append(ed)
        if -0.5 <= s_t <= num_frames - 0.5:
            lo = max(0, int(math.ceil(s_t - 0.5 * systole * lengths[n])))
            hi = min(num_frames - 1, int(math.floor(s_t + 0.3 * lengths[n])))
            es = lo + int(np.argmin(volumes[lo:hi + 1]))
            es_frames.append(es)
        if ed is not None and es is not None:
            pairs.append((ed, es))
    return ed_frames, es_frames, pairs


def single_beat_pair(volumes: np.ndarray, min_gap: int = 7):
    """(ED, ES) = (argmax, argmin) of the volumes when they are ``min_gap`` frames apart or
    more and the volume falls monotonically from ED to ES (one beat), else None."""
    ed, es = int(np.argmax(volumes)), int(np.argmin(volumes))
    lo, hi = min(ed, es), max(ed, es)
    seg = volumes[lo:hi + 1] if ed < es else volumes[lo:hi + 1][::-1]
    if hi - lo >= min_gap and np.all(np.diff(seg) <= 1e-9):
        return ed, es
    return None
