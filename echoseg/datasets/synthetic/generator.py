"""``SyntheticEchoGenerator``: plans (:mod:`.plan`) rendered to videos and label maps."""
from typing import Dict, Optional, Tuple

import numpy as np

from .anatomy import frame_anatomy
from .appearance import echogenicity, realistic_fields, tissue_texture
from .common import seed_children
from .cycle import mitral_opening
from .physics import EchoImaging, fixed_scatterers
from .plan import SyntheticVideoPlan, VideoPlanner
from .scan_conversion import SectorGrid

__all__ = ['SyntheticEchoGenerator']


class SyntheticEchoGenerator(VideoPlanner):
    """Generate synthetic apical echo videos with labels and true LV volumes.

    Args:
        image_size: (H, W) or an int for square frames.
        difficulty: ``'easy'|'medium'|'hard'`` or a float in [0, 1]; sets the nominal
            appearance knobs (:func:`~.knobs.difficulty_knobs`), jittered per video.
        num_frames_range: inclusive range of frames of a :meth:`plan` video. Must start at
            24 or more so that every video holds a full cycle and a systole of >= 8 frames.
        ef_range: range (percent) of the EF drawn per video.
        depth_range_mm: range of the sector depth; the pixel spacing follows from it.
        knobs: overrides of knob values (names of :func:`~.knobs.difficulty_knobs`),
            applied before the jitter; e.g. ``dict(shadow_rate=0)``.
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

    :meth:`plan` and :meth:`plan_long` (from :class:`~.plan.VideoPlanner`) draw a video's
    :class:`~.plan.SyntheticVideoPlan`; :meth:`render` draws its pixels.

    Example:
        >>> gen = SyntheticEchoGenerator(128, difficulty='medium')
        >>> out = gen.generate(seed=(0, 3))
        >>> out['video'].shape == out['labels'].shape   # (N, 128, 128) uint8 each
        True
    """

    mitral_opening = staticmethod(mitral_opening)

    def render(self, plan: SyntheticVideoPlan) -> Tuple[np.ndarray, np.ndarray]:
        """Render a plan: ``(video, labels)``, both (N, H, W) uint8."""
        H, W = plan.image_size
        N = plan.num_frames
        realistic = plan.realistic
        grid = SectorGrid(plan.image_size, plan.spacing, plan.sector, fine_beams=realistic)

        # fixed per-video fields, drawn in this order: tissue texture, scatterers, and the
        # realistic style's tissue, pericardium and haze
        seeds = seed_children(plan.seed)
        look_rng = np.random.default_rng(seeds['speckle'])
        tex = tissue_texture(plan, look_rng)
        fixed = fixed_scatterers(look_rng, grid)
        fields = realistic_fields(plan, look_rng, grid.rho) if realistic else None
        imaging = EchoImaging(plan, grid, fixed, np.random.default_rng(seeds['noise']),
                              fields['clutter_lateral'] if realistic else None)

        # a mirrored view draws the anatomy in x-flipped coordinates
        Xa = -grid.X if plan.heart.get('mirrored') else grid.X
        video = np.empty((N, H, W), np.uint8)
        labels = np.empty((N, H, W), np.uint8)
        for k in range(N):
            region, lab, extra = frame_anatomy(plan, k, Xa, grid.Y)
            lab[~grid.inside] = 0
            labels[k] = lab
            e_db = echogenicity(plan, k, region, extra, Xa, grid.Y, tex, fields)
            cart = grid.to_pixels(imaging.frame(e_db))
            if realistic:
                # the display floor: black blood stays distinguishable from outside the fan
                np.maximum(cart, 1.0, out=cart)
            cart[~grid.inside] = 0.0
            video[k] = (cart + 0.5).astype(np.uint8)
        return video, labels

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
