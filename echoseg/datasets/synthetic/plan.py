"""Planning a video: everything it is rendered from, drawn from its seed without pixels."""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from .appearance import draw_look
from .common import GEOMETRIES, STYLES, check_choice, part_rng, seed_tuple
from .cycle import draw_beats, ed_es_frames, lv_volumes, single_beat_pair
from .heart import draw_heart, fit_heart
from .knobs import generator_knobs, resolve_difficulty, video_knobs
from .scan_conversion import draw_sector

__all__ = ['SyntheticVideoPlan']


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
    def realistic(self) -> bool:
        """Whether the heart was drawn in the realistic style."""
        return 'leaflets' in self.heart

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


class VideoPlanner:
    """Draws :class:`SyntheticVideoPlan` s; the base of
    :class:`~.generator.SyntheticEchoGenerator`, whose arguments it takes and checks."""

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
        check_choice('style', style, STYLES)
        check_choice('geometry', geometry, GEOMETRIES)
        self.style, self.geometry = style, geometry
        for name, value in (('a2c_fraction', a2c_fraction),
                            ('mirror_fraction', mirror_fraction)):
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f'{name} must lie in [0, 1], got {value}')
        self.a2c_fraction, self.mirror_fraction = float(a2c_fraction), float(mirror_fraction)
        self.knobs = generator_knobs(self.difficulty, style, geometry, knobs)
        self.jitter = bool(jitter)

    def plan(self, seed, num_frames: Optional[int] = None) -> SyntheticVideoPlan:
        """Plan a dataset video: >= 1 full cycle, one ED/ES pair of the same beat.

        ``ed_frame`` is the frame of largest true LV volume in the video, ``es_frame`` the
        smallest, at least 7 frames apart (>= 8 frames from ED to ES inclusive); the cycle
        phase at frame 0 is random, so ED comes after ES in about 40 % of the videos.
        """
        if num_frames is None:
            num_frames = int(part_rng(seed, 'frames').integers(self.num_frames_range[0],
                                                               self.num_frames_range[1] + 1))
        num_frames = int(num_frames)
        if num_frames < 24:
            raise ValueError('plan needs >= 24 frames (one full cycle); use plan_long')
        heart, look, sector, spacing = self._draw_video(seed)
        rng = part_rng(seed, 'timing')
        period = float(rng.uniform(max(24.0, 0.55 * num_frames), num_frames))
        systole = float(rng.uniform(0.33, 0.40))
        for _ in range(100):
            phase0 = float(rng.uniform(0.0, 1.0))
            plan = self._timed_plan(seed, heart, look, sector, spacing, num_frames, period,
                                    systole, phase0, rr_jitter=0.0, ef_jitter=0.0, rng=rng)
            # same beat: volume falls monotonically from ED to ES (whichever comes first)
            pair = single_beat_pair(plan.lv_volumes, min_gap=7)
            if pair is not None:
                plan.ed_frame, plan.es_frame = pair
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
        rng = part_rng(seed, 'timing')
        period = float(frames_per_cycle) if frames_per_cycle else float(rng.uniform(24, 40))
        systole = float(rng.uniform(0.33, 0.40))
        phase0 = float(rng.uniform(0.0, 1.0))
        return self._timed_plan(seed, heart, look, sector, spacing, num_frames, period,
                                systole, phase0, rr_jitter=rr_jitter, ef_jitter=ef_jitter,
                                rng=rng)

    def _draw_video(self, seed):
        """Draw the per-video sector, pixel spacing, heart geometry and appearance."""
        realistic = self.style == 'realistic'
        rng = part_rng(seed, 'heart')
        depth = float(rng.uniform(*self.depth_range_mm))
        sector, spacing, half = draw_sector(rng, depth, self.image_size, self.style,
                                            self.geometry)
        look_rng = part_rng(seed, 'look')
        knobs = video_knobs(self.knobs, look_rng, self.jitter, realistic)
        heart = draw_heart(rng, depth, knobs, self.style, self.ef_range, self.a2c_fraction,
                           self.mirror_fraction)
        # keep the LV and its wall inside the sector and the image at ED (with motion)
        fit_heart(heart, sector, spacing, self.image_size, depth,
                  margin=knobs['motion_mm'] + 3.0)
        look = draw_look(look_rng, knobs, depth, half, realistic)
        return heart, look, sector, spacing

    def _timed_plan(self, seed, heart, look, sector, spacing, num_frames, period, systole,
                    phase0, rr_jitter, ef_jitter, rng) -> SyntheticVideoPlan:
        """The plan of a video with the given heart, look and sector, whose beats of mean
        length ``period`` start at phase ``phase0`` (:func:`.cycle.draw_beats`)."""
        beats = draw_beats(rng, num_frames, period, systole, phase0, heart['ef'],
                           rr_jitter, ef_jitter)
        vol = lv_volumes(heart, beats.contraction, beats.beat_ef)
        ed_frames, es_frames, pairs = ed_es_frames(beats, vol, systole)

        # rigid probe / breathing motion, slower than the heart beat
        motion = look['knobs']['motion_mm']
        t = np.arange(num_frames, dtype=np.float64)
        ph = 2.0 * np.pi * t / (look['motion_period'] * period)
        shift = np.stack([motion * np.sin(ph + look['motion_phase'][0]),
                          0.5 * motion * np.sin(ph + look['motion_phase'][1])], 1)
        hr = float(rng.uniform(55.0, 100.0))
        plan = SyntheticVideoPlan(
            seed=seed_tuple(seed),
            image_size=self.image_size, difficulty=self.difficulty, spacing=spacing,
            sector=sector, heart=heart, look=look, frames_per_cycle=period,
            systole_fraction=systole, heart_rate=hr, fps=hr / 60.0 * period,
            phases=beats.phases, contraction=beats.contraction, beat_ef=beats.beat_ef,
            shift_mm=shift, lv_volumes=vol, ed_frames=ed_frames, es_frames=es_frames,
            cycle_ef=heart['ef'] * 100.0)
        if pairs:
            plan.ed_frame, plan.es_frame = pairs[0]
        return plan
