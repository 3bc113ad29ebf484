"""Clip sampling: T frames, or every frame, from ED to ES (clip contract §2), optionally
shifted in time by whole clip steps for training (``shift_prob``)."""
from numbers import Integral
from typing import Dict, List, Optional

import numpy as np
from mmcv.transforms import BaseTransform

from echoseg.registry import TRANSFORMS
from ..errors import EchoDataError

#: keys holding one entry per source frame, sliced together with the video
PER_FRAME_KEYS = ('video', 'masks', 'labelled', 'oracle_masks', 'ori_masks')


def ed_to_es_indices(ed: int, es: int, num_frames: int) -> List[int]:
    """The papers' indexing, ED first: ``ed + sign(es-ed) * floor(i*|es-ed|/(T-1))``.

    Frames 0 and T-1 are exactly ED and ES; when ES comes before ED in the video the clip
    runs backwards in time, so it still starts at ED. Spans shorter than T repeat frames.
    """
    return shifted_indices(ed, es, num_frames, 0)


def shifted_indices(ed: int, es: int, num_frames: int, shift: int) -> List[int]:
    """:func:`ed_to_es_indices`' grid moved by ``shift`` of its own steps along the clip's
    direction: positions ``shift .. shift + T - 1`` of ``ed + sign * floor(i*|es-ed|/(T-1))``
    (floor also for negative ``i``), so ES sits at position ``T - 1 - shift`` and ED at
    ``-shift`` when they are inside. ``shift > 0`` runs past ES (after systole: the first
    frames of diastole), ``shift < 0`` starts before ED."""
    if num_frames < 2:
        raise ValueError(f'num_frames must be >= 2, got {num_frames}')
    span = abs(es - ed)
    sign = 1 if es >= ed else -1
    return [ed + sign * ((i * span) // (num_frames - 1))
            for i in range(shift, shift + num_frames)]


@TRANSFORMS.register_module()
class SampleClipFrames(BaseTransform):
    """Select T frames of the video and their masks.

    Args:
        num_frames: T (10 in the papers); not used with ``all_frames=True``.
        mode: ``'ed_to_es'`` (the papers' clips, deterministic) or ``'all'`` (every frame
            of the video in order, for inference on unannotated videos).
        all_frames: with ``mode='ed_to_es'``, keep every frame from ED to ES (ED first, so
            backwards in time when ES comes first): T = |ES - ED| + 1 varies per video.
            Used by CAMUS-Full evaluation (every labelled frame of a half sequence).
        shift_prob: training only: with this probability the ED -> ES clip's frame grid is
            shifted by ``k`` of its own steps, ``k`` drawn uniformly from the non-zero
            integers in ``[-max_shift, max_shift]`` whose clip stays inside the video (no
            shift when none does). The clip then spans part of the cardiac cycle beyond ED or
            ES, as the windows of whole-video inference do (``echoseg.apis.inference``:
            windows at any phase, frames spaced like training clips); the labelled flags
            follow the frames, so ED or ES is supervised where it lands and the frames
            outside ED..ES are unlabelled. ``ed_index`` / ``es_index`` are the positions of
            ED / ES, None when shifted out of the clip (models that read them, e.g. RAC,
            need unshifted clips). Default 0: the papers' clips.
        max_shift: the largest ``|k|``; default ``num_frames // 2``.
        seed: seed of a private generator for the draws; None uses ``np.random`` (seeded by
            the runner, as the other random clip transforms).
    """

    def __init__(self, num_frames: int = 10, mode: str = 'ed_to_es',
                 all_frames: bool = False, shift_prob: float = 0.0,
                 max_shift: Optional[int] = None, seed: Optional[int] = None) -> None:
        if mode not in ('ed_to_es', 'all'):
            raise ValueError(f"SampleClipFrames: unknown mode {mode!r} (use 'ed_to_es' or "
                             "'all')")
        if all_frames and mode != 'ed_to_es':
            raise ValueError("SampleClipFrames: all_frames=True selects ED..ES and needs "
                             f"mode='ed_to_es'; mode={mode!r} already keeps every frame")
        if mode == 'ed_to_es' and not all_frames and not (
                isinstance(num_frames, Integral) and num_frames >= 2):
            raise ValueError(f'SampleClipFrames: num_frames must be an integer >= 2, got '
                             f'{num_frames!r} (all_frames=True keeps every ED..ES frame)')
        if not 0.0 <= float(shift_prob) <= 1.0:
            raise ValueError(f'SampleClipFrames: shift_prob must be in [0, 1], got '
                             f'{shift_prob!r}')
        if shift_prob and (mode != 'ed_to_es' or all_frames):
            raise ValueError("SampleClipFrames: shift_prob needs mode='ed_to_es' with T "
                             'frames (all_frames=False)')
        if max_shift is None:
            max_shift = num_frames // 2 if isinstance(num_frames, Integral) else 0
        if not (isinstance(max_shift, Integral) and max_shift >= 0):
            raise ValueError(f'SampleClipFrames: max_shift must be an integer >= 0, got '
                             f'{max_shift!r}')
        self.num_frames = num_frames
        self.mode = mode
        self.all_frames = bool(all_frames)
        self.shift_prob = float(shift_prob)
        self.max_shift = int(max_shift)
        self.rng = np.random if seed is None else np.random.default_rng(seed)

    def draw_shift(self, ed: int, es: int, n: int) -> int:
        """The shift ``k`` of one clip (0: the papers' clip); see ``shift_prob``."""
        if not self.shift_prob or self.rng.random() >= self.shift_prob:
            return 0
        valid = [k for k in range(-self.max_shift, self.max_shift + 1) if k != 0 and all(
            0 <= i < n for i in shifted_indices(ed, es, self.num_frames, k))]
        if not valid:
            return 0
        return valid[min(int(self.rng.random() * len(valid)), len(valid) - 1)]

    def transform(self, results: Dict) -> Dict:
        n = results['video'].shape[0]
        case = results.get('video_path') or results.get('video_id')
        if self.mode == 'all':
            indices = list(range(n))
            ed, es = results.get('ed_frame'), results.get('es_frame')
            ed_index = indices.index(ed) if ed is not None and 0 <= ed < n else None
            es_index = indices.index(es) if es is not None and 0 <= es < n else None
        else:
            ed, es = results.get('ed_frame'), results.get('es_frame')
            if ed is None or es is None:
                raise EchoDataError(f'{case}: ED/ES frame indices are required for '
                                    "ed_to_es clips (use mode='all' for unannotated videos)")
            for name, f in (('ED', ed), ('ES', es)):
                if not 0 <= int(f) < n:
                    raise EchoDataError(f'{case}: {name} frame {f} is outside the video '
                                        f'({n} frames)')
            ed, es = int(ed), int(es)
            if self.all_frames:
                step = 1 if es >= ed else -1
                indices = list(range(ed, es + step, step))
                ed_index, es_index = 0, len(indices) - 1
            else:
                shift = self.draw_shift(ed, es, n)
                indices = shifted_indices(ed, es, self.num_frames, shift)
                t = self.num_frames
                ed_index = -shift if 0 <= -shift < t else None
                es_index = t - 1 - shift if 0 <= t - 1 - shift < t else None
                results['clip_shift'] = shift
        idx = np.asarray(indices)
        for key in PER_FRAME_KEYS:
            if results.get(key) is not None:
                results[key] = np.asarray(results[key])[idx]
        results['frame_indices'] = [int(i) for i in indices]
        results['ed_index'] = ed_index
        results['es_index'] = es_index
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_frames={self.num_frames}, mode={self.mode!r}, '
                f'all_frames={self.all_frames}, shift_prob={self.shift_prob}, '
                f'max_shift={self.max_shift})')
