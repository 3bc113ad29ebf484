"""``SyntheticEchoDataset``: built-in synthetic apical echo videos with known volumes.

The index (``load_data_list``) holds light entries only (ids, seed, frame count, ED/ES,
spacing, EF/EDV/ESV); the pixels are rendered by
:class:`~echoseg.datasets.synthetic.SyntheticEchoGenerator` when an item is read, so a
dataset of any size costs no memory and every worker renders the same video for an index.
See ``docs/synthetic_data.md``.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.dataset import BaseDataset

from echoseg.registry import DATASETS
from .common import RAW_CLASSES
from .generator import SyntheticEchoGenerator

IGNORE_INDEX = 255  # the value LoadEchoAnnotations uses on frames without a mask
_PALETTE = [[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [255, 0, 255]]


def synthetic_classes(label_map: Optional[Dict[int, int]]) -> Tuple[str, ...]:
    """Class names after ``label_map`` (raw labels of several names are joined by '+')."""
    if label_map is None:
        return tuple(RAW_CLASSES)
    n = max([0] + [int(v) for v in label_map.values()]) + 1
    names: List[List[str]] = [[] for _ in range(n)]
    names[0] = ['background']
    for raw, new in sorted(label_map.items()):
        if int(new) > 0:
            names[int(new)].append(RAW_CLASSES[int(raw)] if 0 <= int(raw) < len(RAW_CLASSES)
                                   else f'label{raw}')
    return tuple('+'.join(v) if v else f'class{i}' for i, v in enumerate(names))


@DATASETS.register_module()
class SyntheticEchoDataset(BaseDataset):
    """Synthetic apical echo videos (four-chamber; two-chamber ones on request), generated
    on access.

    Video ``i`` of a dataset with seed ``s`` is always the same (generator seed ``(s, i)``),
    whatever the process, worker or order of access. ED is the frame of largest true LV
    volume and ES the smallest (ED comes after ES in about 40 % of the videos); they are
    at least 7 frames apart.

    Args:
        num_videos: number of videos.
        seed: dataset seed (non-negative int); use different seeds for train/val/test.
        image_size: (H, W) or an int.
        num_frames_range: inclusive range of frames per video (lower bound >= 24).
        difficulty: ``'easy'|'medium'|'hard'`` or a float in [0, 1].
        mode: ``'semi'``: only ED and ES carry masks (``labelled_frames=[ed, es]``; the other
            frames of ``masks`` hold 255) and the full labels go to ``oracle_masks`` for
            diagnostics; ``'full'``: every frame is labelled.
        label_map: raw label (0 background, 1 LV, 2 myocardium, 3 other chambers) ->
            training label, applied here; unmapped labels become 0. Default LV only.
        generator_cfg: more :class:`SyntheticEchoGenerator` arguments (``ef_range``,
            ``depth_range_mm``, ``knobs``, ``jitter``, ``style``, ``geometry``,
            ``a2c_fraction``, ``mirror_fraction``).
        metainfo: overrides of the metainfo (``classes`` follow ``label_map`` by default).
        **kwargs: other :class:`mmengine.dataset.BaseDataset` arguments (``pipeline``,
            ``test_mode``, ``lazy_init``, ``indices``, ``serialize_data`` ...).
    """

    METAINFO = dict(classes=('background', 'LV'), palette=[[0, 0, 0], [255, 0, 0]],
                    dataset_name='SyntheticEcho')

    def __init__(self,
                 num_videos: int = 100,
                 seed: int = 0,
                 image_size: Union[int, Sequence[int]] = (128, 128),
                 num_frames_range: Sequence[int] = (24, 40),
                 difficulty: Union[str, float] = 'medium',
                 mode: str = 'semi',
                 label_map: Optional[Dict[int, int]] = {1: 1},  # noqa: B006 (read only)
                 generator_cfg: Optional[dict] = None,
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        if mode not in ('semi', 'full'):
            raise ValueError(f"mode must be 'semi' or 'full', got {mode!r}")
        if int(num_videos) < 0:
            raise ValueError(f'num_videos must be >= 0, got {num_videos}')
        if int(seed) < 0:
            raise ValueError(f'seed must be a non-negative integer, got {seed}')
        self.num_videos = int(num_videos)
        self.seed = int(seed)
        self.mode = mode
        self.difficulty = difficulty
        self.label_map = None if label_map is None else {
            int(k): int(v) for k, v in dict(label_map).items()}
        self.generator = SyntheticEchoGenerator(
            image_size=image_size, difficulty=difficulty,
            num_frames_range=tuple(int(v) for v in num_frames_range),
            **dict(generator_cfg or {}))
        lut = np.zeros(256, np.uint8)
        if self.label_map is None:
            lut[:len(RAW_CLASSES)] = np.arange(len(RAW_CLASSES))
        else:
            for raw, new in self.label_map.items():
                lut[raw] = new
        self._lut = lut
        classes = synthetic_classes(self.label_map)
        meta = dict(classes=classes, palette=[list(p) for p in _PALETTE[:len(classes)]],
                    difficulty=self.generator.difficulty,
                    image_size=list(self.generator.image_size))
        meta.update(metainfo or {})
        super().__init__(metainfo=meta, **kwargs)

    def video_id(self, index: int) -> str:
        return f'synthetic_s{self.seed}_{index:05d}'

    def load_data_list(self) -> List[dict]:
        """Light entries: no pixels, only what the generator plan knows."""
        data_list = []
        for i in range(self.num_videos):
            plan = self.generator.plan((self.seed, i))
            info = plan.info()
            vid = self.video_id(i)
            data_list.append(dict(
                video_id=vid, patient_id=vid, view=info['view'],
                synthetic_seed=[self.seed, i],
                num_frames=info['num_frames'],
                ed_frame=info['ed_frame'], es_frame=info['es_frame'],
                spacing=info['spacing'],
                ef=info['ef'], edv=info['edv'], esv=info['esv'],
                lv_volumes=info['lv_volumes'],
                frames_per_cycle=info['frames_per_cycle'],
                heart_rate=info['heart_rate'], fps=info['fps'],
                sector=info['sector'], difficulty=info['difficulty']))
        return data_list

    def get_data_info(self, idx: int) -> dict:
        """The data info of clip contract section 1, with the pixels rendered now."""
        info = super().get_data_info(idx)
        seed = tuple(info['synthetic_seed'])
        plan = self.generator.plan(seed, info['num_frames'])
        video, labels = self.generator.render(plan)
        full = self._lut[labels]
        n = video.shape[0]
        if self.mode == 'semi':
            labelled = [info['ed_frame'], info['es_frame']]
            masks = np.full_like(full, IGNORE_INDEX)
            masks[labelled] = full[labelled]
        else:
            labelled = list(range(n))
            masks = full
        info.update(video=video, masks=masks, labelled_frames=labelled, label_map=None,
                    hidden_masks_available=True, oracle_masks=full)
        return info
