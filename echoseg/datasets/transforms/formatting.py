"""Pack a clip into model inputs and an ``EchoDataSample``."""
from typing import Dict, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from echoseg.registry import TRANSFORMS
from echoseg.structures import IGNORE_INDEX, EchoDataSample

DEFAULT_META_KEYS = ('video_id', 'patient_id', 'view', 'video_path', 'frame_indices',
                     'ed_index', 'es_index', 'ed_frame', 'es_frame', 'spacing',
                     'ori_spacing', 'ori_shape', 'img_shape', 'ef', 'edv', 'esv',
                     'image_quality', 'fps', 'flip', 'warp_matrix')


@TRANSFORMS.register_module()
class PackEchoInputs(BaseTransform):
    """Results dict -> ``dict(inputs=(T, 1, H, W) float32, data_samples=EchoDataSample)``.

    Only the keys in ``meta_keys`` that are present become metainfo; hidden synthetic
    ground truth (``oracle_masks``) is packed as a data field for diagnostics only.
    """

    def __init__(self, meta_keys: Sequence[str] = DEFAULT_META_KEYS):
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: Dict) -> Dict:
        video = np.asarray(results['video'], dtype=np.float32)
        t, h, w = video.shape
        inputs = torch.from_numpy(np.ascontiguousarray(video)).unsqueeze(1)
        sample = EchoDataSample()
        masks = results.get('masks')
        if masks is None:
            masks = np.full((t, h, w), IGNORE_INDEX, dtype=np.uint8)
        sample.gt_masks = torch.from_numpy(np.ascontiguousarray(masks)).long()
        labelled = results.get('labelled')
        if labelled is None:
            labelled = np.zeros(t, dtype=bool)
        sample.labelled = torch.from_numpy(np.asarray(labelled, dtype=bool))
        if results.get('ori_masks') is not None:
            sample.ori_gt_masks = torch.from_numpy(
                np.ascontiguousarray(results['ori_masks'])).long()
        if results.get('oracle_masks') is not None:
            sample.set_field(
                torch.from_numpy(np.ascontiguousarray(results['oracle_masks'])).long(),
                'oracle_masks', dtype=torch.Tensor)
        meta = {k: results[k] for k in self.meta_keys if k in results}
        meta.setdefault('ori_shape', (h, w))
        meta.setdefault('img_shape', (h, w))
        meta.setdefault('frame_indices', list(range(t)))
        sample.set_metainfo(meta)
        return dict(inputs=inputs, data_samples=sample)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'
