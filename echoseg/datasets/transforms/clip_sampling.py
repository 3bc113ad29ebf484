"""Clip sampling: T frames, or every frame, from ED to ES (clip contract §2)."""
from numbers import Integral
from typing import Dict, List

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
    if num_frames < 2:
        raise ValueError(f'num_frames must be >= 2, got {num_frames}')
    span = abs(es - ed)
    sign = 1 if es >= ed else -1
    return [ed + sign * ((i * span) // (num_frames - 1)) for i in range(num_frames)]


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
    """

    def __init__(self, num_frames: int = 10, mode: str = 'ed_to_es',
                 all_frames: bool = False) -> None:
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
        self.num_frames = num_frames
        self.mode = mode
        self.all_frames = bool(all_frames)

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
            else:
                indices = ed_to_es_indices(ed, es, self.num_frames)
            ed_index, es_index = 0, len(indices) - 1
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
                f'all_frames={self.all_frames})')
