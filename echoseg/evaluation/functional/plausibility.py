"""Plausibility flags of a beat's clinical numbers (``docs/inference.md``, "Plausibility
flags"): pure numpy/scipy, no model.

A beat is an ED frame followed by the next ES frame, with its EDV/ESV (Simpson volumes) and
EDA/ESA (LV areas). :func:`beat_flags` names everything that makes its EF untrustworthy;
:func:`trusted_ef` averages the EF of the beats that carry none of the excluding flags and
says why when there is none. So no number outside [0, 100] is ever given as an EF without a
flag: a beat whose EF is outside that range always carries ``ef_out_of_range``, and the
mean is taken over unflagged beats only.
"""
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from scipy import ndimage

from .postprocess import count_components
from .simpson import ejection_fraction

#: flag name -> what it means (the order in which flags are reported)
FLAG_DESCRIPTIONS = OrderedDict(
    ef_out_of_range='EF outside [0, 100] % or undefined (EDV < ESV, or an empty ED mask)',
    area_volume_disagree='LV area and volume disagree on which of ED and ES is larger',
    multiple_components='several LV components at ED or ES before post-processing',
    touches_border='the LV touches the image or sector border at ED or ES',
    small_lv='LV area below the minimum at ED or ES',
    short_systole='ED and ES too close in time',
    fewer_than_one_beat='the video holds fewer than one full cardiac cycle',
    no_period='no regular beat period was found on the LV curve',
)
BEAT_FLAGS = tuple(FLAG_DESCRIPTIONS)


@dataclass
class PlausibilityCriteria:
    """Thresholds of the flags (defaults documented in ``docs/inference.md``).

    Attributes:
        min_component_fraction: a second LV component counts when its area is at least
            this fraction of the largest one's (specks below it do not).
        min_area_fraction: the LV area at ED and at ES must be at least this fraction of
            the image area.
        border_margin: pixels from the image edge or the sector border that count as
            touching it.
        min_border_pixels: LV pixels within the margin needed to flag a frame ...
        min_border_fraction: ... and the fraction of the LV's outline they make up (an
            apex that just reaches the sector tip is no truncated LV; a wall cut off along
            the sector edge is).
        min_systole_s: ES must come at least this long after ED (with a frame rate).
        min_systole_period: ... and at least this fraction of the beat period (when found).
        min_systole_frames: ... and at least this many frames.
        exclude: the flags that exclude a beat from the mean EF (default: all of them).
    """
    min_component_fraction: float = 0.1
    min_area_fraction: float = 0.01
    border_margin: int = 1
    min_border_pixels: int = 3
    min_border_fraction: float = 0.1
    min_systole_s: float = 0.1
    min_systole_period: float = 0.15
    min_systole_frames: int = 2
    exclude: Tuple[str, ...] = field(default_factory=lambda: BEAT_FLAGS)

    def __post_init__(self) -> None:
        unknown = set(self.exclude) - set(BEAT_FLAGS)
        if unknown:
            raise ValueError(f'PlausibilityCriteria: unknown flag(s) {sorted(unknown)} in '
                             f'exclude; known: {", ".join(BEAT_FLAGS)}')
        self.exclude = tuple(self.exclude)

    def min_systole(self, fps: Optional[float], period: Optional[float]) -> float:
        """Fewest frames allowed from ED to ES."""
        need = float(self.min_systole_frames)
        if fps:
            need = max(need, self.min_systole_s * fps)
        if period:
            need = max(need, self.min_systole_period * period)
        return need


def ef_in_range(ef) -> bool:
    """True for a finite EF within [0, 100] percent."""
    return ef is not None and bool(np.isfinite(ef)) and 0.0 <= float(ef) <= 100.0


def estimate_field_of_view(max_frame, threshold: float = 10.0,
                           min_fraction: float = 0.3) -> Optional[np.ndarray]:
    """(H, W) bool sector of an echo video from its per-pixel maximum over time.

    The ultrasound sector is convex; the cavity inside it can be dark in every frame. So
    the field of view is the convex hull of the largest connected region brighter than
    ``threshold``. None when no sector stands out (the region covers under
    ``min_fraction`` or practically all of the image): then only the image border counts.
    """
    img = np.asarray(max_frame, dtype=np.float32)
    if img.ndim == 3:
        img = img.max(axis=-1)
    if img.ndim != 2:
        raise ValueError(f'max_frame must be (H, W), got shape {img.shape}')
    bright = img > threshold
    labels, n = ndimage.label(bright, structure=np.ones((3, 3), bool))
    if n == 0:
        return None
    sizes = np.bincount(labels.ravel())[1:]
    region = labels == (int(np.argmax(sizes)) + 1)
    pts = np.argwhere(region)[:, ::-1].astype(np.int32)   # (x, y)
    fov = np.zeros(img.shape, np.uint8)
    cv2.fillConvexPoly(fov, cv2.convexHull(pts), 1)
    frac = fov.mean()
    if frac < min_fraction or frac > 0.98:
        return None
    return fov.astype(bool)


def border_zone(shape: Sequence[int], fov: Optional[np.ndarray] = None,
                margin: int = 1) -> np.ndarray:
    """(H, W) bool: pixels within ``margin`` of the image edge or outside / at the edge of
    the field of view ``fov``."""
    h, w = int(shape[0]), int(shape[1])
    margin = max(1, int(margin))
    zone = np.zeros((h, w), bool)
    zone[:margin] = zone[-margin:] = True
    zone[:, :margin] = zone[:, -margin:] = True
    if fov is not None:
        fov = np.asarray(fov, bool)
        if fov.shape != (h, w):
            raise ValueError(f'field of view {fov.shape} does not match the masks {(h, w)}')
        zone |= ndimage.binary_dilation(~fov, np.ones((3, 3), bool), iterations=margin)
    return zone


def frame_measures(raw_lv, lv, fov: Optional[np.ndarray] = None,
                   criteria: Optional[PlausibilityCriteria] = None) -> Dict[str, np.ndarray]:
    """Per-frame inputs of the flags, from (N, H, W) bool LV masks before (``raw_lv``) and
    after (``lv``) post-processing: ``components`` (before), ``border_pixels`` (LV pixels
    in the border zone), ``border_fraction`` (those over the LV's outline pixels) and
    ``area_fraction`` (of the image) after."""
    c = criteria or PlausibilityCriteria()
    raw_lv, lv = np.asarray(raw_lv, bool), np.asarray(lv, bool)
    if raw_lv.shape != lv.shape or lv.ndim != 3:
        raise ValueError(f'LV masks must be two (N, H, W) stacks of one shape, got '
                         f'{raw_lv.shape} and {lv.shape}')
    zone = border_zone(lv.shape[1:], fov, c.border_margin)
    n = lv.shape[0]
    touching = (lv & zone).reshape(n, -1).sum(axis=1).astype(np.int64)
    inner = ndimage.binary_erosion(lv, np.ones((1, 3, 3), bool), border_value=0)
    outline = (lv & ~inner).reshape(n, -1).sum(axis=1)
    return dict(
        components=np.array([count_components(m, c.min_component_fraction) for m in raw_lv],
                            dtype=np.int64),
        border_pixels=touching,
        border_fraction=touching / np.maximum(outline, 1),
        area_fraction=lv.reshape(n, -1).mean(axis=1) if n else np.zeros(0))


def beat_flags(edv: float, esv: float, eda: float, esa: float, ed: int, es: int,
               measures: Optional[Dict[str, np.ndarray]] = None, fps: Optional[float] = None,
               period: Optional[float] = None, num_frames: Optional[int] = None,
               partial: bool = False,
               criteria: Optional[PlausibilityCriteria] = None) -> List[str]:
    """The flags (names of :data:`FLAG_DESCRIPTIONS`) of one beat, in their order.

    ``measures`` (:func:`frame_measures`) enables the per-frame flags (components, border,
    size); ``period`` and ``num_frames`` (with ``partial``) the cycle flags.
    """
    c = criteria or PlausibilityCriteria()
    flags = []
    ef = ejection_fraction(edv, esv)
    if not ef_in_range(ef) or not esv <= edv:
        flags.append('ef_out_of_range')
    if np.sign(eda - esa) != np.sign(edv - esv) or not np.isfinite(eda - esa):
        flags.append('area_volume_disagree')
    if measures is not None:
        frames = [int(ed), int(es)]
        if any(measures['components'][f] > 1 for f in frames):
            flags.append('multiple_components')
        if any(measures['border_pixels'][f] >= c.min_border_pixels
               and measures['border_fraction'][f] >= c.min_border_fraction for f in frames):
            flags.append('touches_border')
        if any(measures['area_fraction'][f] < c.min_area_fraction for f in frames):
            flags.append('small_lv')
    if es - ed < c.min_systole(fps, period):
        flags.append('short_systole')
    if partial or (num_frames is not None and period and num_frames < period):
        flags.append('fewer_than_one_beat')
    elif num_frames is not None and not period:
        flags.append('no_period')
    return flags


def describe_flags(flags: Sequence[str]) -> str:
    """'; '-joined descriptions of flag names."""
    return '; '.join(FLAG_DESCRIPTIONS.get(f, f) for f in flags)


def trusted_ef(beats: Sequence[Dict], criteria: Optional[PlausibilityCriteria] = None
               ) -> Tuple[float, List[int], Optional[str]]:
    """(mean EF, indices of the beats used, why there is no EF or None).

    A beat is used when it carries none of ``criteria.exclude`` (``beat['flags']``) and
    its EF is within [0, 100]; the mean is NaN, with the reason, when no beat is used.
    """
    c = criteria or PlausibilityCriteria()
    used = [i for i, b in enumerate(beats)
            if not set(b.get('flags', ())) & set(c.exclude) and ef_in_range(b.get('ef'))]
    if used:
        return float(np.mean([beats[i]['ef'] for i in used])), used, None
    if not beats:
        return float('nan'), [], 'no beat found: the LV curve shows no ED followed by an ES'
    reasons = sorted({f for b in beats for f in b.get('flags', ())} & set(c.exclude),
                     key=BEAT_FLAGS.index)
    return float('nan'), [], ('no trustworthy beat: every beat is flagged (' +
                              describe_flags(reasons or ['ef_out_of_range']) + ')')
