"""Synthetic apical-view echocardiography videos with exactly known LV volumes.

Pure numpy / OpenCV (no torch, no MMEngine), so it can run in data-loader workers, tests and
tools alike. :class:`SyntheticEchoGenerator` draws one *plan* per seed (geometry, cardiac
cycle, appearance; cheap, no pixels) and *renders* it to a grayscale video and a label video:

* a fan-shaped sector with its apex at the top, as in an apical view: EchoNet-Dynamic's
  wide fan cut by the frame (``geometry='echonet'``, default) or CAMUS's whole fan;
* the LV cavity as a bullet / half-ellipse from the mitral base to the apex with a small,
  smooth boundary irregularity; its long axis ``L`` and base half-width ``b`` follow a cardiac
  cycle (fast systole of about a third of the cycle, diastole with early filling, diastasis
  and atrial kick) so that the end-systolic volume is ``EDV * (1 - EF)``; its position,
  tilt, size and apex shape vary as in EchoNet's tracings, with foreshortened views;
* a myocardium band that thickens in systole, the RV beside the septum (none in two-chamber
  views), the atria below the base, the pericardium, the mitral valve, papillary muscles;
* ultrasound-like speckle: complex Gaussian scatterers times the tissue echogenicity,
  convolved with an anisotropic point-spread function in beam (polar) coordinates, envelope
  (magnitude), depth attenuation with imperfect time-gain compensation, electronic noise,
  log compression, then scan conversion to the Cartesian sector. The scatterer field is a
  fixed per-video field mixed with fresh noise in every frame (partly correlated speckle);
* artefacts scaled by ``difficulty``: low blood/tissue contrast, near-field clutter (haze at
  the apex), dropout of wall segments, acoustic shadows (dark rays from the apex), noise,
  blur, rigid probe/breathing motion.

Two looks (``style``): ``'realistic'`` (default), fitted to real apical views with
``tools/analysis/fit_synthetic_appearance.py``: dark to mid-gray patchy tissue around the
heart, bright pericardium behind the base and along the lateral wall, walls dim on their
endocardial side and brightest outside, a bright septum and a faint lateral wall,
trabeculae and haze that blur the cavity's edge, thin mitral leaflets that open in
diastole, patchy apical haze; and ``'classic'``, the first look (uniformly bright tissue
around dark chambers), kept to reproduce earlier results.

Labels of every frame: 0 background, 1 LV cavity, 2 LV myocardium, 3 other chambers (RV,
left and right atria).

Volumes are those of Simpson's single-plane method of disks applied to the *continuous*
shape: with the LV's width profile ``w(u) = b * D(u)`` (``u`` from the base, 0, to the apex,
1), ``V = pi/4 * b^2 * L * int_0^1 D(u)^2 du`` (``2/3 * pi * L * b^2`` for a plain
half-ellipse), in ml (mm^3 / 1000). Because only ``L`` and ``b`` change over the cycle, the
volume ratio of any two frames is exact, whatever the irregularity.

Everything is deterministic from the seed (an int or a tuple of non-negative ints, e.g.
``(dataset_seed, video_index)``): each part (frame count, heart, look, timing, speckle, noise)
has its own child of ``np.random.SeedSequence(seed)``, so nothing depends on global random
state and changing the frame count does not change the heart.

See ``docs/synthetic_data.md`` for the knobs and difficulty levels.
"""
import math
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

__all__ = [
    'DIFFICULTY_LEVELS', 'RAW_CLASSES', 'resolve_difficulty', 'difficulty_knobs',
    'cardiac_contraction', 'SyntheticVideoPlan', 'SyntheticEchoGenerator', 'STYLES',
    'GEOMETRIES'
]

#: named difficulty levels and the float in [0, 1] each stands for
DIFFICULTY_LEVELS = {'easy': 0.0, 'medium': 0.5, 'hard': 1.0}
#: names of the raw labels the generator writes (index = label value)
RAW_CLASSES = ('background', 'LV', 'myocardium', 'other_chambers')
#: looks: fitted to real apical views (default), or the first, schematic one
STYLES = ('realistic', 'classic')
#: sector layouts of the realistic style: EchoNet-Dynamic frames or CAMUS images
GEOMETRIES = ('echonet', 'camus')

_NT = 512  # samples of the width-profile look-up tables along the long axis
_SEED_PARTS = ('frames', 'heart', 'look', 'timing', 'speckle', 'noise')
# echogenicity regions (internal): indices into the per-frame dB look-up table
_R_TISSUE, _R_LV, _R_MYO, _R_RV, _R_ATRIA, _R_WALL, _R_PERI, _R_VALVE, _R_PAP, _R_LEAF = \
    range(10)


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
    ``tools/analysis/fit_synthetic_appearance.py``) or ``'classic'`` (the first look:
    bright tissue around dark chambers).
    """
    d = resolve_difficulty(difficulty)
    _check_choice('style', style, STYLES)
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
_KNOB_JITTER = dict(
    blood_db=('add', 3.0), tissue_db=('add', 2.0), clutter_db=('add', 3.0),
    noise_db=('add', 3.0), speckle_memory=('add', 0.05), psf_axial_mm=('mul', 0.15),
    psf_lateral_deg=('mul', 0.15), residual_attenuation_db=('mul', 0.3),
    dropout_strength=('add', 0.05), shadow_db=('mul', 0.2), irregularity=('mul', 0.3),
    motion_mm=('mul', 0.3), dynamic_range_db=('add', 4.0))
# the realistic look is jittered more widely (scanners, patients and settings differ)
_KNOB_JITTER_REALISTIC = dict(
    _KNOB_JITTER, blood_db=('add', 5.0), tissue_db=('add', 6.0), clutter_db=('add', 7.0),
    noise_db=('add', 4.0), psf_axial_mm=('mul', 0.25), psf_lateral_deg=('mul', 0.25),
    residual_attenuation_db=('mul', 0.5), irregularity=('mul', 0.4),
    dynamic_range_db=('add', 6.0), gain_db=('add', 5.0))


# LV pose and shape ranges per style (lengths relative to the depth, angles in degrees);
# the realistic ones cover the ED/ES tracings of EchoNet-Dynamic: the apex 3-30 % of the
# depth from the transducer and up to 35 degrees left of the sector's axis, the long axis
# 41-65 % of the depth, tilted 0-24 degrees towards the lateral side
_POSE = dict(
    classic=dict(length=(0.48, 0.58), width=(0.25, 0.32), tilt_deg=(4.0, 14.0),
                 apex_x=(-0.02, 0.04), apex_y=(0.10, 0.15), bullet=(2.0, 2.7),
                 septal=(0.85, 1.0), wall_mm=(7.0, 11.0), rv_width=(0.55, 0.8)),
    realistic=dict(length=(0.45, 0.66), width=(0.22, 0.32), tilt_deg=(-2.0, 24.0),
                   apex_r=(0.03, 0.3), apex_deg=(-35.0, 5.0), bullet=(1.7, 3.0),
                   septal=(0.8, 1.0), wall_mm=(6.5, 11.5), rv_width=(0.55, 1.05)))


# CAMUS images are displayed brighter and with less contrast than EchoNet-Dynamic's videos
# (sector mean gray level 108, std 41 vs 30-60, 51; tools/analysis/fit_synthetic_appearance.py)
_CAMUS_DISPLAY = dict(gain_db=6.0, dynamic_range_db=24.0)


def _check_choice(name: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ValueError(f'{name} must be one of {list(choices)}, got {value!r}')


def _smooth01(x: np.ndarray) -> np.ndarray:
    """Raised-cosine step: 0 for x <= 0, 1 for x >= 1, C1-smooth in between."""
    x = np.clip(x, 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * x)


def cardiac_contraction(phase: np.ndarray, systole_fraction: float,
                        early_filling: float = 0.7) -> np.ndarray:
    """Contraction ``c`` in [0, 1] (0 at ED, 1 at ES) at cycle phases (ED at integers).

    Systole (the first ``systole_fraction`` of the cycle) is a raised-cosine ejection; in
    diastole the ventricle refills by ``early_filling`` in the first 40 % (E wave), rests
    (diastasis) and fills the rest in the last 25 % (atrial kick, A wave).
    """
    frac = np.mod(np.asarray(phase, dtype=np.float64), 1.0)
    s = float(systole_fraction)
    c_sys = _smooth01(frac / s)
    t = (frac - s) / (1.0 - s)
    filled = early_filling * _smooth01(t / 0.4) + (1.0 - early_filling) * _smooth01(
        (t - 0.75) / 0.25)
    return np.where(frac < s, c_sys, 1.0 - filled)


def _seed_children(seed) -> Dict[str, np.random.SeedSequence]:
    entropy = [int(seed)] if np.isscalar(seed) else [int(v) for v in seed]
    if any(v < 0 for v in entropy):
        raise ValueError(f'seeds must be non-negative integers, got {seed!r}')
    return dict(zip(_SEED_PARTS, np.random.SeedSequence(entropy).spawn(len(_SEED_PARTS))))


def _rng(seed, part: str) -> np.random.Generator:
    return np.random.default_rng(_seed_children(seed)[part])


@dataclass
class SyntheticVideoPlan:
    """Everything a video is rendered from: per-video parameters and per-frame timing.

    Lengths in mm, angles in radians unless named ``_deg``, volumes in ml.
    ``ed_frame``/``es_frame`` are one ED/ES pair of the same beat (ED may come after ES);
    ``ed_frames``/``es_frames`` list every ED/ES of a long video.
    """
    seed: Tuple[int, ...]
    image_size: Tuple[int, int]
    difficulty: float
    spacing: Tuple[float, float]
    sector: Dict[str, object]
    heart: Dict[str, object]
    look: Dict[str, object]
    frames_per_cycle: float
    systole_fraction: float
    heart_rate: float
    fps: float
    phases: np.ndarray          # (N,) beat phase, ED at integers
    contraction: np.ndarray     # (N,) c in [0, 1]
    beat_ef: np.ndarray         # (N,) EF (fraction) of the beat each frame belongs to
    shift_mm: np.ndarray        # (N, 2) rigid motion (x, y)
    lv_volumes: np.ndarray      # (N,) true volumes, ml
    ed_frames: List[int] = field(default_factory=list)
    es_frames: List[int] = field(default_factory=list)
    ed_frame: Optional[int] = None
    es_frame: Optional[int] = None
    cycle_ef: float = 0.0       # the EF drawn for the video (percent)

    @property
    def num_frames(self) -> int:
        return int(self.phases.shape[0])

    @property
    def ef(self) -> Optional[float]:
        """EF (percent) between ``ed_frame`` and ``es_frame`` from the true volumes."""
        if self.ed_frame is None or self.es_frame is None:
            return None
        edv, esv = self.lv_volumes[self.ed_frame], self.lv_volumes[self.es_frame]
        return float((edv - esv) / edv * 100.0)

    def info(self) -> Dict[str, object]:
        """Plain-python metadata (no arrays): what a dataset index stores."""
        has_pair = self.ed_frame is not None and self.es_frame is not None
        return dict(
            num_frames=self.num_frames,
            ed_frame=self.ed_frame, es_frame=self.es_frame,
            ed_frames=list(self.ed_frames), es_frames=list(self.es_frames),
            ef=self.ef,
            edv=float(self.lv_volumes[self.ed_frame]) if has_pair else None,
            esv=float(self.lv_volumes[self.es_frame]) if has_pair else None,
            cycle_ef=float(self.cycle_ef),
            lv_volumes=[float(v) for v in self.lv_volumes],
            spacing=tuple(float(v) for v in self.spacing),
            sector=dict(self.sector),
            frames_per_cycle=float(self.frames_per_cycle),
            systole_fraction=float(self.systole_fraction),
            heart_rate=float(self.heart_rate), fps=float(self.fps),
            difficulty=float(self.difficulty),
            view=str(self.heart.get('view', 'A4C')),
            mirrored=bool(self.heart.get('mirrored', False)),
        )


class SyntheticEchoGenerator:
    """Generate synthetic apical echo videos with labels and true LV volumes.

    Args:
        image_size: (H, W) or an int for square frames.
        difficulty: ``'easy'|'medium'|'hard'`` or a float in [0, 1]; sets the nominal
            appearance knobs (:func:`difficulty_knobs`), jittered per video.
        num_frames_range: inclusive range of frames of a :meth:`plan` video. Must start at
            24 or more so that every video holds a full cycle and a systole of >= 8 frames.
        ef_range: range (percent) of the EF drawn per video.
        depth_range_mm: range of the sector depth; the pixel spacing follows from it.
        knobs: overrides of knob values (names of :func:`difficulty_knobs`), applied before
            the jitter; e.g. ``dict(shadow_rate=0)``.
        jitter: False to use the knob values exactly (no per-video jitter).
        style: ``'realistic'`` (default: dark surrounding tissue, bright thin walls,
            pericardium and valves, varied LV pose and shape) or ``'classic'`` (the first
            look: uniformly bright tissue around dark chambers; kept so old results can be
            reproduced).
        geometry: sector layout of the realistic style: ``'echonet'`` (the fan fills the
            frame and is cut by its sides, as in EchoNet-Dynamic's 112x112 videos) or
            ``'camus'`` (the whole fan inside the frame, square pixels where the width
            allows: 0.15-0.3 mm at CAMUS image sizes, and CAMUS's brighter, softer display:
            gain +6 dB, dynamic range +24 dB).
            Ignored by the classic style.
        a2c_fraction: share of apical two-chamber videos (no right heart; realistic only).
        mirror_fraction: share of left-right mirrored videos (LV on the left).

    Example:
        >>> gen = SyntheticEchoGenerator(128, difficulty='medium')
        >>> out = gen.generate(seed=(0, 3))
        >>> out['video'].shape == out['labels'].shape   # (N, 128, 128) uint8 each
        True
    """

    def __init__(self,
                 image_size: Union[int, Sequence[int]] = (128, 128),
                 difficulty: Union[str, float] = 'medium',
                 num_frames_range: Tuple[int, int] = (24, 40),
                 ef_range: Tuple[float, float] = (20.0, 75.0),
                 depth_range_mm: Tuple[float, float] = (100.0, 160.0),
                 knobs: Optional[Dict[str, float]] = None,
                 jitter: bool = True,
                 style: str = 'realistic',
                 geometry: str = 'echonet',
                 a2c_fraction: float = 0.0,
                 mirror_fraction: float = 0.0):
        if isinstance(image_size, (int, np.integer)):
            image_size = (int(image_size), int(image_size))
        self.image_size = (int(image_size[0]), int(image_size[1]))
        if min(self.image_size) < 32:
            raise ValueError(f'image_size must be at least 32x32, got {self.image_size}')
        self.difficulty = resolve_difficulty(difficulty)
        lo, hi = int(num_frames_range[0]), int(num_frames_range[1])
        if lo < 24 or hi < lo:
            raise ValueError('num_frames_range must be (lo, hi) with 24 <= lo <= hi, '
                             f'got {num_frames_range}; use plan_long for short videos')
        self.num_frames_range = (lo, hi)
        if not 0.0 < ef_range[0] <= ef_range[1] < 100.0:
            raise ValueError(f'ef_range must lie in (0, 100), got {ef_range}')
        self.ef_range = (float(ef_range[0]), float(ef_range[1]))
        self.depth_range_mm = (float(depth_range_mm[0]), float(depth_range_mm[1]))
        _check_choice('style', style, STYLES)
        _check_choice('geometry', geometry, GEOMETRIES)
        self.style, self.geometry = style, geometry
        for name, value in (('a2c_fraction', a2c_fraction),
                            ('mirror_fraction', mirror_fraction)):
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f'{name} must lie in [0, 1], got {value}')
        self.a2c_fraction, self.mirror_fraction = float(a2c_fraction), float(mirror_fraction)
        self.knobs = difficulty_knobs(self.difficulty, style)
        if style == 'realistic' and geometry == 'camus':
            self.knobs['gain_db'] += _CAMUS_DISPLAY['gain_db']
            self.knobs['dynamic_range_db'] += _CAMUS_DISPLAY['dynamic_range_db']
        unknown = set(knobs or {}) - set(self.knobs)
        if unknown:
            raise KeyError(f'unknown synthetic-echo knobs {sorted(unknown)} for style '
                           f'{style!r}; known: {sorted(self.knobs)}')
        self.knobs.update({k: float(v) for k, v in (knobs or {}).items()})
        self.jitter = bool(jitter)

    # ------------------------------------------------------------------ planning
    def plan(self, seed, num_frames: Optional[int] = None) -> SyntheticVideoPlan:
        """Plan a dataset video: >= 1 full cycle, one ED/ES pair of the same beat.

        ``ed_frame`` is the frame of largest true LV volume in the video, ``es_frame`` the
        smallest, at least 7 frames apart (>= 8 frames from ED to ES inclusive); the cycle
        phase at frame 0 is random, so ED comes after ES in about 40 % of the videos.
        """
        if num_frames is None:
            num_frames = int(_rng(seed, 'frames').integers(self.num_frames_range[0],
                                                           self.num_frames_range[1] + 1))
        num_frames = int(num_frames)
        if num_frames < 24:
            raise ValueError('plan needs >= 24 frames (one full cycle); use plan_long')
        heart, look, sector, spacing = self._draw_video(seed)
        rng = _rng(seed, 'timing')
        period = float(rng.uniform(max(24.0, 0.55 * num_frames), num_frames))
        systole = float(rng.uniform(0.33, 0.40))
        plan = None
        for _ in range(100):
            phase0 = float(rng.uniform(0.0, 1.0))
            plan = self._timed_plan(seed, heart, look, sector, spacing, num_frames, period,
                                    systole, phase0, rr_jitter=0.0, ef_jitter=0.0, rng=rng)
            vol = plan.lv_volumes
            ed, es = int(np.argmax(vol)), int(np.argmin(vol))
            lo, hi = min(ed, es), max(ed, es)
            seg = vol[lo:hi + 1] if ed < es else vol[lo:hi + 1][::-1]
            # same beat: volume falls monotonically from ED to ES (whichever comes first)
            if hi - lo >= 7 and np.all(np.diff(seg) <= 1e-9):
                plan.ed_frame, plan.es_frame = ed, es
                return plan
        raise RuntimeError(f'could not place ED/ES in a {num_frames}-frame video (seed '
                           f'{seed!r}); this should not happen')  # pragma: no cover

    def plan_long(self, seed, num_frames: int, frames_per_cycle: Optional[float] = None,
                  rr_jitter: float = 0.04, ef_jitter: float = 2.0) -> SyntheticVideoPlan:
        """Plan a video of any length covering several beats (inference demos, tests).

        Args:
            seed: as in :meth:`plan`; the same seed gives the same heart and look.
            num_frames: any number >= 1.
            frames_per_cycle: mean beat length in frames; drawn in [24, 40] when None.
            rr_jitter: relative std of the beat-to-beat cycle length.
            ef_jitter: std (EF points) of the beat-to-beat EF.

        ``ed_frames``/``es_frames`` list the frame of largest (smallest) volume of every beat
        whose ED (ES) instant falls inside the video; ``ed_frame``/``es_frame`` are the
        first ED with its own beat's ES in the video (None when there is none).
        """
        num_frames = int(num_frames)
        if num_frames < 1:
            raise ValueError('num_frames must be >= 1')
        heart, look, sector, spacing = self._draw_video(seed)
        rng = _rng(seed, 'timing')
        period = float(frames_per_cycle) if frames_per_cycle else float(rng.uniform(24, 40))
        systole = float(rng.uniform(0.33, 0.40))
        phase0 = float(rng.uniform(0.0, 1.0))
        plan = self._timed_plan(seed, heart, look, sector, spacing, num_frames, period,
                                systole, phase0, rr_jitter=rr_jitter, ef_jitter=ef_jitter,
                                rng=rng)
        return plan

    def _draw_sector(self, rng, depth):
        """Sector (apex pixel, radius, half-angle) and pixel spacing of one video."""
        H, W = self.image_size
        if self.style == 'classic':
            half = math.radians(float(rng.uniform(34.0, 42.0)))
            apex_row, apex_col = 1.0, (W - 1) / 2.0
            row_mm = depth / (H - 2.0 - apex_row)
            col_mm = row_mm * float(rng.uniform(0.95, 1.15))
        elif self.geometry == 'echonet':
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

    def _draw_video(self, seed):
        """Draw the per-video sector, pixel spacing, heart geometry and appearance."""
        realistic = self.style == 'realistic'
        pose = _POSE[self.style]
        rng = _rng(seed, 'heart')
        depth = float(rng.uniform(*self.depth_range_mm))
        sector, spacing, half = self._draw_sector(rng, depth)

        knobs = dict(self.knobs)
        look_rng = _rng(seed, 'look')
        if self.jitter:
            table = _KNOB_JITTER_REALISTIC if realistic else _KNOB_JITTER
            for k, (kind, w) in table.items():
                u = float(look_rng.uniform(-1.0, 1.0))
                knobs[k] = knobs[k] + w * u if kind == 'add' else knobs[k] * (1.0 + w * u)
        knobs['speckle_memory'] = float(np.clip(knobs['speckle_memory'], 0.0, 1.0))
        knobs['dropout_strength'] = float(np.clip(knobs['dropout_strength'], 0.0, 1.0))

        ef = float(rng.uniform(*self.ef_range)) / 100.0
        sick = 1.0 - (ef - 0.20) / 0.55       # low EF -> dilated, more spherical
        L_ed = depth * float(rng.uniform(*pose['length']))
        b_ed = L_ed * (float(rng.uniform(*pose['width'])) + 0.07 * float(np.clip(sick, 0, 1)))
        alpha = float(rng.uniform(0.12, 0.22))  # long axis shortens less than the width
        tilt = math.radians(float(rng.uniform(*pose['tilt_deg'])))
        if 'apex_deg' in pose:   # apex position in polar coordinates from the transducer
            r = depth * float(rng.uniform(*pose['apex_r']))
            a = math.radians(float(rng.uniform(*pose['apex_deg'])))
            apex_x, apex_y = r * math.sin(a), r * math.cos(a)
        else:
            apex_x = depth * float(rng.uniform(*pose['apex_x']))
            apex_y = depth * float(rng.uniform(*pose['apex_y']))
        bullet = float(rng.uniform(*pose['bullet']))
        septal = float(rng.uniform(*pose['septal']))
        foreshortened = False
        if realistic and rng.random() < knobs['foreshortening']:
            # the imaging plane misses the true apex: a short, blunt cavity seen deeper
            foreshortened = True
            L_ed *= float(rng.uniform(0.72, 0.88))
            apex_y += depth * float(rng.uniform(0.02, 0.08))
            bullet = float(rng.uniform(2.8, 4.0))
        # smooth endocardial ripple, one per side, zero at the base
        u = np.linspace(0.0, 1.0, _NT)
        ripples = []
        for _ in range(2):
            kk = np.arange(1, 5)
            amp = rng.normal(0.0, 1.0, 4) / kk
            ph = rng.uniform(0.0, 2.0 * np.pi, 4)
            r = (amp[:, None] * np.sin(np.pi * kk[:, None] * u[None] * 1.5 + ph[:, None])).sum(0)
            r -= r[0]
            r /= max(np.abs(r).max(), 1e-6)
            ripples.append(knobs['irregularity'] * r)
        prof = (1.0 - u ** bullet).clip(0.0) ** (1.0 / bullet)
        tab_l = (septal * prof * (1.0 + ripples[0])).astype(np.float32)
        tab_r = ((2.0 - septal) * prof * (1.0 + ripples[1])).astype(np.float32)
        diam = tab_l.astype(np.float64) + tab_r
        disk_integral = float(np.trapezoid(diam ** 2, u) if hasattr(np, 'trapezoid')
                              else np.trapz(diam ** 2, u))
        tab_rv = ((1.0 - u ** 1.6).clip(0.0) ** (1.0 / 1.6)).astype(np.float32)
        wall = float(rng.uniform(*pose['wall_mm'])) * depth / 140.0
        heart = dict(
            ef=ef, L_ed=L_ed, b_ed=b_ed, alpha=alpha, tilt=tilt, apex=(apex_x, apex_y),
            bullet=bullet, septal=septal, tab_l=tab_l, tab_r=tab_r, tab_rv=tab_rv,
            disk_integral=disk_integral, wall=wall, apex_wall=0.8 * wall,
            peri=float(rng.uniform(2.0, 3.5)),
            rv_apex=float(rng.uniform(0.15, 0.3)) * L_ed,
            rv_width=float(rng.uniform(*pose['rv_width'])) * 2.0 * b_ed,
            rv_wall=float(rng.uniform(3.0, 5.0)),
            la_len=float(rng.uniform(0.28, 0.38)) * L_ed,
            la_width=float(rng.uniform(0.75, 0.95)) * b_ed,
            ra_len=float(rng.uniform(0.25, 0.35)) * L_ed,
            ra_width_frac=float(rng.uniform(0.7, 0.9)),
            mitral_gap=float(rng.uniform(2.0, 3.5)),
            tricuspid_gap=float(rng.uniform(0.5, 2.0)),
            ias=float(rng.uniform(3.0, 5.0)),
            atrial_wall=float(rng.uniform(2.0, 3.0)),
            view='A4C', mirrored=False, foreshortened=foreshortened,
        )
        if realistic:
            heart.update(self._draw_realistic_heart(rng, depth))
        # keep the LV and its wall inside the sector and the image at ED (with motion)
        margin = knobs['motion_mm'] + 3.0
        for attempt in range(30):
            if self._heart_fits(heart, sector, spacing, margin):
                break
            if attempt % 2 == 0 and heart['apex'][1] < 0.2 * depth:
                heart['apex'] = (heart['apex'][0], heart['apex'][1] + 0.015 * depth)
                continue
            for k in ('L_ed', 'b_ed', 'wall', 'apex_wall', 'rv_apex', 'rv_width', 'la_len',
                      'la_width', 'ra_len'):
                heart[k] *= 0.94

        # appearance events drawn once per video
        n_drop = int(look_rng.poisson(knobs['dropout_rate']))
        # realistic: the lateral wall, parallel to the beams, drops out more often
        p_lateral = 0.7 if realistic else 0.5
        dropouts = [dict(u=float(look_rng.uniform(0.1, 0.85)),
                         side=(float(look_rng.random() < p_lateral) * 2.0 - 1.0 if realistic
                               else float(look_rng.choice([-1.0, 1.0]))),
                         size=float(look_rng.uniform(4.0, 9.0)) * depth / 140.0,
                         strength=float(np.clip(knobs['dropout_strength']
                                                * look_rng.uniform(0.8, 1.1), 0, 1)))
                    for _ in range(n_drop)]
        n_shadow = int(look_rng.poisson(knobs['shadow_rate']))
        shadows = [dict(theta=float(look_rng.uniform(-0.85, 0.85)) * half,
                        width=math.radians(float(look_rng.uniform(2.5, 7.0))),
                        start=float(look_rng.uniform(0.03, 0.5)) * depth,
                        db=knobs['shadow_db'] * float(look_rng.uniform(0.7, 1.2)))
                   for _ in range(n_shadow)]
        look = dict(
            knobs=knobs, dropouts=dropouts, shadows=shadows,
            attenuation_db=float(look_rng.uniform(30.0, 45.0)),
            tgc_ripple=[float(v) for v in look_rng.uniform(-1.5, 1.5, 3)],
            headroom_db=float(look_rng.uniform(10.0, 16.0)),
            clutter_depth=float(look_rng.uniform(12.0, 28.0)),
            texture_db=float(look_rng.uniform(3.0, 5.0)),
            valve_db=float(look_rng.uniform(0.0, 4.0)),
            peri_db=float(look_rng.uniform(3.0, 7.0)),
            wall_db=float(look_rng.uniform(-3.0, 0.0)),
            motion_period=float(look_rng.uniform(2.5, 5.0)),
            motion_phase=[float(v) for v in look_rng.uniform(0, 2 * np.pi, 2)],
        )
        if realistic:
            look.update(self._draw_realistic_look(look_rng))
        return heart, look, sector, spacing

    def _draw_realistic_heart(self, rng, depth) -> Dict[str, object]:
        """View, mirroring, RV shape, papillary muscles and mitral leaflets of a realistic
        heart."""
        mm = depth / 140.0
        n_pap = int(rng.integers(0, 3))
        u = np.linspace(0.0, 1.0, _NT)
        rv_round = float(rng.uniform(1.4, 2.8))   # pointed (1.4) to round, dilated (2.8) RV
        return dict(
            tab_rv=((1.0 - u ** rv_round).clip(0.0) ** (1.0 / rv_round)).astype(np.float32),
            view='A2C' if rng.random() < self.a2c_fraction else 'A4C',
            mirrored=bool(rng.random() < self.mirror_fraction),
            # papillary muscles: bright masses inside the cavity (traced as cavity)
            papillary=[dict(u=float(rng.uniform(0.3, 0.6)),
                            side=1.0 if rng.random() < 0.8 else -1.0,
                            size=float(rng.uniform(2.5, 5.0)) * mm,
                            elong=float(rng.uniform(1.3, 2.2))) for _ in range(n_pap)],
            # mitral leaflets: septal (anterior) and lateral (posterior), relative to the
            # base width; thin bright lines across the base when closed, into the LV open
            leaflets=dict(septal=float(rng.uniform(0.55, 0.8)),
                          lateral=float(rng.uniform(0.35, 0.55)),
                          thick=float(rng.uniform(1.2, 2.2)) * mm,
                          bow=float(rng.uniform(0.5, 2.5)) * mm),
        )

    @staticmethod
    def _draw_realistic_look(rng) -> Dict[str, object]:
        """Per-video gains of the realistic style's regions (dB vs the myocardium)."""
        n_bands = int(rng.integers(1, 4))
        return dict(
            clutter_depth=float(rng.uniform(12.0, 40.0)),
            septal_db=float(rng.uniform(-2.0, 5.0)),
            lateral_db=float(rng.uniform(-12.0, -2.0)),
            pap_db=float(rng.uniform(-9.0, -2.0)),
            inner_db=float(rng.uniform(-18.0, -2.0)),
            halo_mm=float(rng.uniform(2.0, 8.0)),
            halo_db=float(rng.uniform(3.0, 14.0)),
            # lung attenuation (dB) and where it starts (in LV half-widths from the long
            # axis), septal then lateral side; absent in about a third of the videos
            lung_db=[float(rng.uniform(0.0, 22.0)) * float(rng.random() < 0.65)
                     for _ in range(2)],
            lung_side=[float(rng.uniform(2.5, 4.0)), float(rng.uniform(1.4, 2.4))],
            trabecula_db=float(rng.uniform(2.0, 12.0)),
            trabecula_mm=float(rng.uniform(1.0, 3.0)),
            blood_haze_db=float(rng.uniform(1.0, 6.0)),
            blood_haze_mm=float(rng.uniform(2.0, 6.0)),
            leaflet_db=float(rng.uniform(0.0, 8.0)),
            valve_db=float(rng.uniform(2.0, 8.0)),
            peri_db=float(rng.uniform(7.0, 16.0)),
            wall_db=float(rng.uniform(-12.0, -3.0)),
            tgc_ripple=[float(v) for v in rng.uniform(-2.5, 2.5, 3)],
            tissue_patch_db=float(rng.uniform(3.0, 8.0)),
            tissue_patch_mm=float(rng.uniform(4.0, 10.0)),
            # chest-wall layers: bright arcs at a few mm from the transducer
            near_bands=[dict(depth=float(rng.uniform(1.5, 14.0)),
                             width=float(rng.uniform(0.8, 2.5)),
                             db=float(rng.uniform(3.0, 12.0))) for _ in range(n_bands)],
        )

    def _heart_fits(self, heart, sector, spacing, margin) -> bool:
        """Whether the ED LV cavity lies inside the sector and the image (its wall may be
        clipped by the sector edges near the transducer, the cavity may not)."""
        W = self.image_size[1]
        half = math.radians(sector['half_angle_deg'])
        ct, st = math.cos(heart['tilt']), math.sin(heart['tilt'])
        ok = True
        # the realistic style lets the image sides cut the wall, as in EchoNet-Dynamic
        grows = ((0.0, 0.0),) if 'leaflets' in heart else (
            (0.0, 0.0), (heart['wall'], heart['apex_wall']))
        for grow, apex_grow in grows:
            L, b = heart['L_ed'], heart['b_ed'] + grow
            s = np.linspace(-apex_grow, L, 64)
            u = np.clip((L - s) / (L + apex_grow), 0, 1)
            iu = (u * (_NT - 1) + 0.5).astype(int)
            ll = np.concatenate([-b * heart['tab_l'][iu], b * heart['tab_r'][iu]])
            ss = np.concatenate([s, s])
            x = heart['apex'][0] + ss * st + ll * ct
            y = heart['apex'][1] + ss * ct - ll * st
            if heart.get('mirrored'):
                x = -x
            col = sector['apex'][1] + x / spacing[1]
            bottom = (self.image_size[0] - 2 - sector['apex'][0]) * spacing[0]
            ok &= bool(np.all(np.hypot(x, y) <= sector['radius_mm'] - margin)
                       and np.all(y <= bottom - margin)
                       and np.all(col >= 1 + margin / spacing[1])
                       and np.all(col <= W - 2 - margin / spacing[1]))
            if grow == 0.0:
                edge = half - math.radians(0.5 if 'leaflets' in heart else 1.5)
                ok &= bool(np.all(np.abs(np.arctan2(x, y)) <= edge))
        return ok

    def _timed_plan(self, seed, heart, look, sector, spacing, num_frames, period, systole,
                    phase0, rr_jitter, ef_jitter, rng) -> SyntheticVideoPlan:
        # beat boundaries (ED instants) in frame units, covering [-1, num_frames + 1]
        starts = [-phase0 * period]
        lengths = []
        while starts[-1] <= num_frames + 1:
            lengths.append(period * (1.0 + rr_jitter * float(rng.normal()))
                           if rr_jitter > 0 else period)
            lengths[-1] = max(lengths[-1], 8.0)
            starts.append(starts[-1] + lengths[-1])
        nb = len(lengths)
        ef0 = heart['ef']
        if ef_jitter > 0:
            beat_ef = np.clip(ef0 + rng.normal(0.0, ef_jitter / 100.0, nb), 0.05, 0.9)
        else:
            beat_ef = np.full(nb, ef0)
        t = np.arange(num_frames, dtype=np.float64)
        beat = np.searchsorted(np.asarray(starts), t, side='right') - 1
        beat = np.clip(beat, 0, nb - 1)
        frac = (t - np.asarray(starts)[beat]) / np.asarray(lengths)[beat]
        phases = beat + frac
        contraction = cardiac_contraction(frac, systole)
        ef_frames = beat_ef[beat]
        vol = self._volumes(heart, contraction, ef_frames)

        # ED / ES frames per beat: extreme volume in a window around the event instant
        ed_frames, es_frames = [], []
        pairs = []
        for n in range(nb):
            e_t = starts[n]
            s_t = starts[n] + systole * lengths[n]
            ed = es = None
            if -0.5 <= e_t <= num_frames - 0.5:
                lo = max(0, int(math.ceil(e_t - 0.4 * lengths[max(n - 1, 0)])))
                hi = min(num_frames - 1, int(math.floor(e_t + 0.5 * systole * lengths[n])))
                ed = lo + int(np.argmax(vol[lo:hi + 1]))
                ed_frames.append(ed)
            if -0.5 <= s_t <= num_frames - 0.5:
                lo = max(0, int(math.ceil(s_t - 0.5 * systole * lengths[n])))
                hi = min(num_frames - 1, int(math.floor(s_t + 0.3 * lengths[n])))
                es = lo + int(np.argmin(vol[lo:hi + 1]))
                es_frames.append(es)
            if ed is not None and es is not None:
                pairs.append((ed, es))

        motion = look['knobs']['motion_mm']
        ph = 2.0 * np.pi * t / (look['motion_period'] * period)
        shift = np.stack([motion * np.sin(ph + look['motion_phase'][0]),
                          0.5 * motion * np.sin(ph + look['motion_phase'][1])], 1)
        hr = float(rng.uniform(55.0, 100.0))
        plan = SyntheticVideoPlan(
            seed=tuple([int(seed)] if np.isscalar(seed) else [int(v) for v in seed]),
            image_size=self.image_size, difficulty=self.difficulty, spacing=spacing,
            sector=sector, heart=heart, look=look, frames_per_cycle=period,
            systole_fraction=systole, heart_rate=hr, fps=hr / 60.0 * period,
            phases=phases, contraction=contraction, beat_ef=ef_frames, shift_mm=shift,
            lv_volumes=vol, ed_frames=ed_frames, es_frames=es_frames,
            cycle_ef=ef0 * 100.0)
        if pairs:
            plan.ed_frame, plan.es_frame = pairs[0]
        return plan

    @staticmethod
    def _axes(heart, c, ef):
        """Long axis and base half-width at contraction ``c`` of a beat with EF ``ef``."""
        s_long = (1.0 - ef) ** heart['alpha']
        s_width = np.sqrt((1.0 - ef) / s_long)
        L = heart['L_ed'] * (1.0 - (1.0 - s_long) * c)
        b = heart['b_ed'] * (1.0 - (1.0 - s_width) * c)
        return L, b

    def _volumes(self, heart, c, ef):
        L, b = self._axes(heart, np.asarray(c), np.asarray(ef))
        return np.pi / 4.0 * heart['disk_integral'] * b ** 2 * L / 1000.0

    # ------------------------------------------------------------------ rendering
    def render(self, plan: SyntheticVideoPlan) -> Tuple[np.ndarray, np.ndarray]:
        """Render a plan: ``(video, labels)``, both (N, H, W) uint8."""
        H, W = plan.image_size
        N = plan.num_frames
        heart, look, knobs = plan.heart, plan.look, plan.look['knobs']
        row_mm, col_mm = plan.spacing
        R = float(plan.sector['radius_mm'])
        half = math.radians(plan.sector['half_angle_deg'])
        ar, ac = plan.sector['apex']

        # Cartesian grid in mm from the transducer (x right, y depth)
        ys = ((np.arange(H, dtype=np.float32) - ar) * row_mm)[:, None]
        xs = ((np.arange(W, dtype=np.float32) - ac) * col_mm)[None, :]
        X = np.broadcast_to(xs, (H, W))
        Y = np.broadcast_to(ys, (H, W))
        rho = np.sqrt(X * X + Y * Y)
        theta = np.arctan2(X, Y)
        sector = (rho <= R) & (np.abs(theta) <= half)

        # beam (polar) grid slightly larger than the sector, and the two remap tables
        n_r, n_t = H, W
        r_ext, half_ext = R * (1.0 + 2.0 / n_r), half * (1.0 + 2.0 / n_t)
        dr, dt = r_ext / (n_r - 1), 2.0 * half_ext / (n_t - 1)
        realistic = 'leaflets' in heart
        # realistic: where a pixel is coarser than the pulse (EchoNet), the echo is sampled
        # `sub` times finer along the beam and displayed on rows `sub` times finer that are
        # averaged back, as a scanner image shrunk to the video (short grains, no deep
        # speckle nulls)
        sub = int(np.clip(round(dr / 0.6), 1, 3)) if realistic else 1
        pr = (np.arange(n_r * sub, dtype=np.float32) * np.float32(dr / sub))[:, None]
        pt = (np.arange(n_t, dtype=np.float32) * dt - half_ext)[None, :]
        to_polar_x = (ac + pr * np.sin(pt) / col_mm).astype(np.float32)
        to_polar_y = (ar + pr * np.cos(pt) / row_mm).astype(np.float32)
        if sub > 1:
            yf = ((np.arange(H * sub, dtype=np.float32) + 0.5) / sub - 0.5 - ar) * row_mm
            Yf = np.broadcast_to(yf[:, None], (H * sub, W))
            Xf = np.broadcast_to(xs, (H * sub, W))
            to_cart_x = ((np.arctan2(Xf, Yf) + half_ext) / dt).astype(np.float32)
            to_cart_y = (np.sqrt(Xf * Xf + Yf * Yf) * (sub / dr)).astype(np.float32)
        else:
            to_cart_x = ((theta + half_ext) / dt).astype(np.float32)
            to_cart_y = (rho / dr).astype(np.float32)

        # fixed per-video fields: tissue texture and the scatterer field
        look_rng = np.random.default_rng(_seed_children(plan.seed)['speckle'])
        tex = cv2.GaussianBlur(look_rng.standard_normal((H, W), dtype=np.float32), (0, 0),
                               4.0 / row_mm)  # tissue texture of a few mm
        tex *= look['texture_db'] / max(float(tex.std()), 1e-6)
        n_r *= sub
        fixed = look_rng.standard_normal((n_r, n_t, 2), dtype=np.float32)
        noise_rng = np.random.default_rng(_seed_children(plan.seed)['noise'])
        if realistic:
            fields = self._realistic_fields(plan, look_rng, rho)

        # PSF in beam coordinates, normalised so a unit-echogenicity field has unit power
        sig_ax = max(knobs['psf_axial_mm'] * sub / dr, 0.3)
        sig_lat = max(math.radians(knobs['psf_lateral_deg']) / dt, 0.3)
        delta = np.zeros((41, 41), np.float32)
        delta[20, 20] = 1.0
        kern = cv2.GaussianBlur(delta, (0, 0), sigmaX=sig_lat, sigmaY=sig_ax)
        psf_gain = 1.0 / math.sqrt(float((kern ** 2).sum()))

        # depth / angle dependent gains (amplitude, dB)
        rr = pr / R
        att_db = look['attenuation_db']
        tgc_frac = 1.0 - knobs['residual_attenuation_db'] / att_db
        ripple = sum(a * np.sin((i + 1) * np.pi * rr) for i, a in enumerate(look['tgc_ripple']))
        echo_db = -knobs['residual_attenuation_db'] * rr + ripple \
            - 3.0 * (pt / half) ** 4  # beam sensitivity falls off at the sector edges
        for sh in look['shadows']:
            win = _smooth01(1.0 - np.abs(pt - sh['theta']) / sh['width'])
            echo_db = echo_db - sh['db'] * win * _smooth01((pr - sh['start']) / 4.0)
        echo_gain = (10.0 ** (echo_db / 20.0)).astype(np.float32)
        noise_amp = (10.0 ** ((knobs['noise_db'] - tgc_frac * att_db * (1.0 - rr)) / 20.0)
                     * np.ones_like(pt)).astype(np.float32)
        clutter = (10.0 ** (knobs['clutter_db'] / 10.0) * np.exp(-pr / look['clutter_depth'])
                   + 10.0 ** (6.0 / 10.0) * np.exp(-pr / 2.5)).astype(np.float32)
        clutter = np.broadcast_to(clutter, (n_r, n_t))
        if realistic:   # reverberation haze is patchy across the beams
            clutter = clutter * fields['clutter_lateral'](pt)
        # white level above the myocardium: the display gain
        top_db = -knobs['gain_db'] if realistic else look['headroom_db']
        dyn = knobs['dynamic_range_db']

        mem = knobs['speckle_memory']
        a_fixed, a_new = math.sqrt(mem), math.sqrt(1.0 - mem)
        # a mirrored view draws the anatomy in x-flipped coordinates
        Xa = -X if heart.get('mirrored') else X
        video = np.empty((N, H, W), np.uint8)
        labels = np.empty((N, H, W), np.uint8)
        for k in range(N):
            region, lab, extra = self._anatomy(plan, k, Xa, Y)
            lab[~sector] = 0
            labels[k] = lab
            if realistic:
                e_db = self._realistic_echogenicity(plan, region, extra, tex, fields)
            else:
                lut = np.array([knobs['tissue_db'], knobs['blood_db'], 0.0, knobs['blood_db'],
                                knobs['blood_db'], look['wall_db'], look['peri_db'],
                                self._valve_db(plan, k)], np.float32)
                tex_gain = np.array([1.0, 0.0, 0.5, 0.0, 0.0, 0.6, 0.4, 0.0], np.float32)
                e_db = lut[region] + tex_gain[region] * tex
            e_db = self._apply_dropout(plan, k, Xa, Y, e_db, region)
            power = np.exp(e_db * np.float32(math.log(10.0) / 10.0))
            power_polar = cv2.remap(power, to_polar_x, to_polar_y, cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REPLICATE) + clutter
            scat = a_fixed * fixed + a_new * noise_rng.standard_normal((n_r, n_t, 2),
                                                                       dtype=np.float32)
            sig = scat * np.sqrt(power_polar)[..., None]
            sig = cv2.GaussianBlur(sig, (0, 0), sigmaX=sig_lat, sigmaY=sig_ax)
            sig *= (psf_gain * echo_gain)[..., None]
            sig += noise_amp[..., None] * noise_rng.standard_normal((n_r, n_t, 2),
                                                                    dtype=np.float32)
            env2 = sig[..., 0] * sig[..., 0] + sig[..., 1] * sig[..., 1]
            db = 10.0 * np.log10(env2 + 1e-12)           # 20 log10 |envelope|
            gray = (db - (top_db - dyn)) * (255.0 / dyn)
            np.clip(gray, 0.0, 255.0, out=gray)
            cart = cv2.remap(gray.astype(np.float32), to_cart_x, to_cart_y, cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_CONSTANT, borderValue=0)
            if sub > 1:
                cart = cart.reshape(H, sub, W).mean(1)
            if realistic:
                # the display floor: black blood stays distinguishable from outside the fan
                np.maximum(cart, 1.0, out=cart)
            cart[~sector] = 0.0
            video[k] = (cart + 0.5).astype(np.uint8)
        return video, labels

    def _realistic_fields(self, plan, rng, rho) -> Dict[str, np.ndarray]:
        """Fixed per-video fields (dB) of the realistic style: the surrounding tissue
        (patchy fat / lung / muscle, chest-wall layers near the transducer) and the
        brightness of the pericardium along the heart."""
        H, W = plan.image_size
        look, knobs = plan.look, plan.look['knobs']
        row_mm = plan.spacing[0]

        def smooth_noise(sigma_mm):
            f = cv2.GaussianBlur(rng.standard_normal((H, W), dtype=np.float32), (0, 0),
                                 max(sigma_mm / row_mm, 0.5))
            return f / max(float(f.std()), 1e-6)

        tissue = knobs['tissue_db'] + look['tissue_patch_db'] * smooth_noise(
            look['tissue_patch_mm'])
        for band in look['near_bands']:
            tissue += band['db'] * np.exp(-0.5 * ((rho - band['depth']) / band['width']) ** 2)
        peri = look['peri_db'] + np.clip(4.0 * smooth_noise(12.0), -10.0, 3.0)
        blood = look['blood_haze_db'] * smooth_noise(look['blood_haze_mm'])
        # haze across the beams: +-5 dB over about a tenth of the sector
        knots = rng.standard_normal(12)
        half = math.radians(plan.sector['half_angle_deg']) * 1.1

        def clutter_lateral(theta):
            z = np.interp(theta, np.linspace(-half, half, knots.size), knots)
            return (10.0 ** (0.5 * z)).astype(np.float32)

        return dict(tissue=tissue.astype(np.float32), peri=peri.astype(np.float32),
                    blood=blood.astype(np.float32), clutter_lateral=clutter_lateral)

    @staticmethod
    def _realistic_echogenicity(plan, region, extra, tex, fields) -> np.ndarray:
        """Backscatter (dB vs the myocardium) of one frame in the realistic style."""
        look, knobs = plan.look, plan.look['knobs']
        blood = knobs['blood_db']
        lut = np.array([0.0, blood, 0.0, blood, blood, look['wall_db'], 0.0, blood,
                        look['pap_db'], look['leaflet_db']], np.float32)
        e_db = lut[region]
        # blood: low-level haze, and trabeculae that blur the walls' inner edge (traced
        # as cavity, so the visible dark core is smaller than the label)
        # in systole the trabeculae are pressed into the thickened wall: a thinner haze
        c = extra['contraction']
        pool = (region == _R_LV) | (region == _R_RV) | (region == _R_ATRIA)
        e_db[pool] += fields['blood'][pool] + look['trabecula_db'] * np.exp(
            -extra['blood_depth_mm'][pool] / (look['trabecula_mm'] * (1.0 - 0.6 * c)))
        # the pericardium and the fat around it are bright behind the base and along the
        # lateral wall (beams cross them), faint around the apex and the right heart
        tissue, peri = region == _R_TISSUE, region == _R_PERI
        along = extra['along']
        weight = _smooth01((along - 0.2) / 0.8) * (1.0 - 0.7 * _smooth01((along - 1.2) / 0.4)) \
            * (0.4 + 0.6 * _smooth01(extra['side'] + 1.5))
        e_db[peri] = fields['tissue'][peri] + weight[peri] * (
            fields['peri'][peri] - fields['tissue'][peri])
        near = np.exp(-extra['heart_dist_mm'][tissue] / look['halo_mm'])
        e_db[tissue] = fields['tissue'][tissue] + look['halo_db'] * weight[tissue] * near
        # lungs: large dark areas beside the heart (lateral to the LV, beyond the RV)
        side, level = extra['side'][tissue], along[tissue]
        height = _smooth01((level + 0.1) / 0.3) * (1.0 - _smooth01((level - 0.9) / 0.3))
        e_db[tissue] -= height * (
            look['lung_db'][1] * _smooth01((side - look['lung_side'][1]) / 0.5)
            + look['lung_db'][0] * _smooth01((-side - look['lung_side'][0]) / 0.5))
        # the septum is brighter than the lateral wall, which runs along the beams
        myo = region == _R_MYO
        w = _smooth01((extra['side'][myo] + 0.3) / 0.6)
        # across the wall: dim on the endocardial side, brightest at the epicardium, more
        # so in the thick systolic wall (EchoNet's ES frames rise over ~7 pixels)
        inner = look['inner_db'] * (1.0 + 0.6 * c) * (1.0 - _smooth01(extra['wall_depth'][myo]))
        e_db[myo] = (look['septal_db'] + (look['lateral_db'] - look['septal_db']) * w
                     + inner + tex[myo])
        walls = region == _R_WALL
        e_db[walls] += tex[walls]
        return e_db

    def _valve_db(self, plan, k) -> float:
        """The mitral gap is a bright closed valve in systole, blood when open."""
        frac = plan.phases[k] % 1.0
        closed = frac < plan.systole_fraction + 0.05 or frac > 0.97
        return plan.look['valve_db'] if closed else plan.look['knobs']['blood_db']

    def _frame_shape(self, plan, k):
        heart = plan.heart
        c, ef = float(plan.contraction[k]), float(plan.beat_ef[k])
        L, b = self._axes(heart, c, ef)
        thick = 1.0 + 0.9 * ef * c        # systolic wall thickening
        return (float(L), float(b), heart['wall'] * thick, heart['apex_wall'] * thick, c)

    def _lv_frame(self, plan, k, X, Y):
        heart = plan.heart
        ax = heart['apex'][0] + plan.shift_mm[k, 0]
        ay = heart['apex'][1] + plan.shift_mm[k, 1]
        ct, st = np.float32(math.cos(heart['tilt'])), np.float32(math.sin(heart['tilt']))
        dx, dy = X - np.float32(ax), Y - np.float32(ay)
        return dx * st + dy * ct, dx * ct - dy * st   # s (apex -> base), l (to the lateral)

    def _anatomy(self, plan, k, X, Y):
        """Label map, echogenicity regions and a dict of extras of frame ``k``: ``side``,
        the normalised lateral coordinate ``l / b`` (negative on the septal side), ``along``
        (``s / L``: 0 at the apex, 1 at the base), ``contraction`` (0 at ED, 1 at ES), and
        for the realistic style
        ``heart_dist_mm`` (distance to the heart), ``blood_depth_mm`` (distance inside the
        blood pools to their edge) and ``wall_depth`` (distance from the ventricular
        cavities in wall thicknesses)."""
        heart = plan.heart
        realistic = 'leaflets' in heart
        four_chamber = heart.get('view', 'A4C') == 'A4C'
        L, b, wall, apex_wall, c = self._frame_shape(plan, k)
        s, l = self._lv_frame(plan, k, X, Y)
        tab_l, tab_r = heart['tab_l'], heart['tab_r']
        m = np.float32(_NT - 1)

        def lookup(u, tab):
            return tab[np.clip(u * m + 0.5, 0.0, m).astype(np.intp)]

        # LV cavity
        lv = (s >= 0) & (s <= L)
        u = (L - s) / np.float32(L)
        lv &= (l >= -b * lookup(u, tab_l)) & (l <= b * lookup(u, tab_r))
        # outer myocardial border: the same shape grown by the wall thickness
        Lo, bo = L + apex_wall, b + wall
        uo = (L - s) / np.float32(Lo)
        wol, wor = bo * lookup(uo, tab_l), bo * lookup(uo, tab_r)
        in_len = (s >= -apex_wall) & (s <= L)
        outer = in_len & (l >= -wol) & (l <= wor)
        myo = outer & ~lv
        # pericardium: a bright band around the apex and the lateral wall
        peri_t = heart['peri']
        up = (L - s) / np.float32(Lo + peri_t)
        peri = ((s >= -apex_wall - peri_t) & (s <= L) & (l >= -(bo + peri_t) * lookup(up, tab_l))
                & (l <= (bo + peri_t) * lookup(up, tab_r)) & ~outer & (l > -0.3 * b))
        # RV beside the septum, narrowing to its own apex
        s0 = heart['rv_apex']
        w_rv = heart['rv_width'] * (1.0 - 0.35 * c)
        urv = (L - s) / np.float32(max(L - s0, 1.0))
        rv_edge = -wol - w_rv * lookup(urv, heart['tab_rv'])
        rv_band = (s >= s0) & (s <= L) & (l < -wol)
        rv = rv_band & (l >= rv_edge)
        rv_wall = ((s >= s0 - heart['rv_wall']) & (s <= L) & (l < rv_edge)
                   & (l >= rv_edge - heart['rv_wall']) & (l < -wol))
        # atria below the base, filling while the ventricles empty
        base_l, base_r = b * float(tab_l[0]), b * float(tab_r[0])
        lc = 0.5 * (base_r - base_l)
        a_la = heart['la_len'] * (1.0 + 0.2 * c)
        b_la = heart['la_width'] * (1.0 + 0.1 * c)
        g = heart['mitral_gap']
        q_la = ((s - (L + g + a_la)) / a_la) ** 2 + ((l - lc) / b_la) ** 2
        la = q_la <= 1.0
        b_ra = 0.5 * heart['ra_width_frac'] * heart['rv_width'] * (1.0 + 0.1 * c)
        a_ra = heart['ra_len'] * (1.0 + 0.2 * c)
        lc_ra = lc - b_la - heart['ias'] - b_ra
        q_ra = ((s - (L + heart['tricuspid_gap'] + a_ra)) / a_ra) ** 2 + ((l - lc_ra) / b_ra) ** 2
        ra = (q_ra <= 1.0) & ~la
        aw = heart['atrial_wall']
        atrial_wall = ((q_la <= (1.0 + aw / b_la) ** 2) | (q_ra <= (1.0 + aw / b_ra) ** 2))
        gap = (s > L) & (s < L + g) & (l >= -base_l) & (l <= base_r)
        if not four_chamber:
            # two-chamber view: no right heart, only the left atrium and its wall
            rv = rv_wall = ra = np.zeros_like(lv)
            atrial_wall = q_la <= (1.0 + aw / b_la) ** 2
        extra = dict(side=l / np.float32(b), along=s / np.float32(L), contraction=c)
        if realistic:
            # the pericardium wraps the whole heart: a shell of the heart's outline, and
            # the distance to the heart (mm) for the bright fat that fades away from it
            heart_all = outer | rv | rv_wall | la | ra | atrial_wall | gap
            px = float(np.sqrt(plan.spacing[0] * plan.spacing[1]))
            dist = cv2.distanceTransform((~heart_all).view(np.uint8), cv2.DIST_L2, 3)
            extra['heart_dist_mm'] = dist * np.float32(px)
            peri = (extra['heart_dist_mm'] <= peri_t) & ~heart_all
            # depth into the ventricular walls and into the blood pools (mm): the walls'
            # brightness profile, and the trabeculae that blur their inner edge
            extra['wall_depth'] = cv2.distanceTransform(
                (~(lv | rv)).view(np.uint8), cv2.DIST_L2, 3) * np.float32(px / wall)
            extra['blood_depth_mm'] = cv2.distanceTransform(
                (lv | rv | la | ra).view(np.uint8), cv2.DIST_L2, 3) * np.float32(px)

        region = np.zeros(s.shape, np.uint8)
        region[atrial_wall | rv_wall] = _R_WALL
        region[peri] = _R_PERI
        region[la | ra] = _R_ATRIA
        region[rv] = _R_RV
        region[gap] = _R_VALVE
        region[myo] = _R_MYO
        region[lv] = _R_LV
        if realistic:
            self._draw_papillary(heart, L, b, s, l, lv, region, lookup)
            region[self._leaflets(plan, k, L, b, g, s, l)] = _R_LEAF
        lab = np.zeros(s.shape, np.uint8)
        lab[la | ra | rv] = 3
        lab[myo] = 2
        lab[lv] = 1
        return region, lab, extra

    @staticmethod
    def _draw_papillary(heart, L, b, s, l, lv, region, lookup):
        """Papillary muscles: ellipses inside the cavity against the wall (cavity label)."""
        for pm in heart['papillary']:
            tab = heart['tab_r'] if pm['side'] > 0 else heart['tab_l']
            s_c = L * (1.0 - pm['u'])
            edge = b * float(lookup(np.float32(pm['u']), tab))
            l_c = pm['side'] * max(edge - 0.6 * pm['size'], 0.0)
            q = ((s - s_c) / (pm['size'] * pm['elong'])) ** 2 + ((l - l_c) / pm['size']) ** 2
            region[(q <= 1.0) & lv] = _R_PAP

    @staticmethod
    def mitral_opening(phase: float, systole_fraction: float) -> float:
        """Opening of the mitral valve in [0, 1]: closed in systole, open in early
        diastole (E), half-closed in diastasis, open again for the atrial kick (A)."""
        frac = float(phase) % 1.0
        t = (frac - systole_fraction - 0.02) / (0.95 - systole_fraction)
        if t <= 0.0 or t >= 1.0:
            return 0.0
        semi = 0.6 * float(_smooth01((t - 0.35) / 0.15)) * (1.0 - float(_smooth01(
            (t - 0.7) / 0.1)))
        return float(_smooth01(t / 0.1)) * (1.0 - semi) * (1.0 - float(_smooth01(
            (t - 0.9) / 0.1)))

    def _leaflets(self, plan, k, L, b, g, s, l) -> np.ndarray:
        """Pixels of the two mitral leaflets: thick segments hinged at the annulus."""
        lf = plan.heart['leaflets']
        tab_l, tab_r = plan.heart['tab_l'], plan.heart['tab_r']
        base_l, base_r = b * float(tab_l[0]), b * float(tab_r[0])
        width = base_l + base_r
        s_a = L + 0.5 * g
        o = self.mitral_opening(plan.phases[k], plan.systole_fraction)
        coapt = np.array([s_a + lf['bow'], -base_l + 0.55 * width])
        out = np.zeros(s.shape, bool)
        for hinge_l, length, inward in ((-base_l, lf['septal'], 1.0),
                                        (base_r, lf['lateral'], -1.0)):
            p = np.array([s_a, hinge_l])
            phi = math.radians(15.0)
            open_end = p + length * width * np.array([-math.cos(phi), inward * math.sin(phi)])
            e = (1.0 - o) * coapt + o * open_end
            d = e - p
            t = np.clip(((s - p[0]) * d[0] + (l - p[1]) * d[1]) / max(float(d @ d), 1e-6),
                        0.0, 1.0)
            dist2 = (s - p[0] - t * d[0]) ** 2 + (l - p[1] - t * d[1]) ** 2
            # thicker at the hinge (the annulus)
            out |= dist2 <= (0.5 * lf['thick'] * (1.0 + 0.8 * (1.0 - t))) ** 2
        return out

    def _apply_dropout(self, plan, k, X, Y, e_db, region):
        """Pull wall segments towards the blood level (echo dropout), moving with the wall."""
        drops = plan.look['dropouts']
        if not drops:
            return e_db
        heart = plan.heart
        L, b, wall, _, _ = self._frame_shape(plan, k)
        ax = heart['apex'][0] + plan.shift_mm[k, 0]
        ay = heart['apex'][1] + plan.shift_mm[k, 1]
        ct, st = math.cos(heart['tilt']), math.sin(heart['tilt'])
        floor = plan.look['knobs']['blood_db'] + 3.0
        loss = np.zeros_like(e_db)
        for dp in drops:
            iu = int(round(dp['u'] * (_NT - 1)))
            tab = heart['tab_r'] if dp['side'] > 0 else heart['tab_l']
            s_c = L * (1.0 - dp['u'])
            l_c = dp['side'] * (b * float(tab[iu]) + 0.5 * wall)
            xc, yc = ax + s_c * st + l_c * ct, ay + s_c * ct - l_c * st
            d2 = (X - np.float32(xc)) ** 2 + (Y - np.float32(yc)) ** 2
            loss = np.maximum(loss, dp['strength'] * np.exp(d2 * np.float32(
                -0.5 / dp['size'] ** 2)))
        blood = (region == _R_LV) | (region == _R_RV) | (region == _R_ATRIA)
        return np.where(blood, e_db, e_db - loss * np.maximum(e_db - floor, 0.0))

    # ------------------------------------------------------------------ one-call API
    def generate(self, seed, num_frames: Optional[int] = None) -> Dict[str, object]:
        """Plan and render a dataset video.

        Returns the :meth:`SyntheticVideoPlan.info` metadata plus ``video`` and ``labels``
        ((N, H, W) uint8) and ``lv_volumes`` as an (N,) float array (ml).
        """
        plan = self.plan(seed, num_frames)
        video, labels = self.render(plan)
        out = plan.info()
        out.update(video=video, labels=labels, lv_volumes=plan.lv_volumes.copy())
        return out

    def generate_long(self, seed, num_frames: int, frames_per_cycle: Optional[float] = None,
                      rr_jitter: float = 0.04, ef_jitter: float = 2.0) -> Dict[str, object]:
        """Plan (:meth:`plan_long`) and render a multi-beat video of any length.

        Returns the metadata of :meth:`SyntheticVideoPlan.info` with ``video``, ``labels``,
        ``lv_volumes`` ((N,) ml), ``phases`` ((N,) beat phase), ``ed_frames``,
        ``es_frames`` (every ED/ES in the video) and ``beat_ef`` ((N,) EF percent of the
        beat each frame belongs to).
        """
        plan = self.plan_long(seed, num_frames, frames_per_cycle, rr_jitter, ef_jitter)
        video, labels = self.render(plan)
        out = plan.info()
        out.update(video=video, labels=labels, lv_volumes=plan.lv_volumes.copy(),
                   phases=plan.phases.copy(), beat_ef=plan.beat_ef * 100.0)
        return out
