"""``EchoDataSample``: one clip, the data contract every echoseg module reads."""
from typing import Optional

import torch
from mmengine.structures import BaseDataElement

#: label written into ``gt_masks`` on frames that carry no mask
IGNORE_INDEX = 255


class EchoDataSample(BaseDataElement):
    """A clip of T frames with its labels, predictions and metainfo.

    Data fields (tensors, first dimension T):
        gt_masks (T, H, W) long: labels; frames without a mask hold ``IGNORE_INDEX``.
        labelled (T,) bool: frames whose mask is real (supervised, and evaluated).
        ori_gt_masks (T, H0, W0) long, optional: the masks at the source resolution,
            kept by test pipelines so metrics compare at the original size.
        pred_masks (T, H0, W0) long: predicted labels at the original resolution.
        seg_logits (T, K, H0, W0) float: class probabilities (softmax, or sigmoid
            for a one-channel head) at the original resolution.

    Metainfo: ``video_id``, ``patient_id``, ``view``, ``frame_indices`` (into the source
    video), ``ed_index`` / ``es_index`` (positions in the clip), ``spacing`` ((row, col)
    mm per pixel after resizing, or None), ``ori_spacing``, ``ori_shape`` (H0, W0),
    ``img_shape`` (H, W), and where known the reference ``ef``, ``edv``, ``esv``.
    """

    def _typed(name):  # noqa: N805 - property factory used only in the class body
        def getter(self) -> Optional[torch.Tensor]:
            return getattr(self, f'_{name}', None)

        def setter(self, value: torch.Tensor) -> None:
            if not isinstance(value, torch.Tensor):
                raise TypeError(f'EchoDataSample.{name} must be a torch.Tensor, '
                                f'got {type(value).__name__}')
            self.set_field(value, f'_{name}', dtype=torch.Tensor)

        def deleter(self) -> None:
            delattr(self, f"_{name}")

        return property(getter, setter, deleter)

    gt_masks = _typed('gt_masks')
    labelled = _typed('labelled')
    ori_gt_masks = _typed('ori_gt_masks')
    pred_masks = _typed('pred_masks')
    seg_logits = _typed('seg_logits')
    del _typed

    @property
    def num_frames(self) -> int:
        for name in ('gt_masks', 'labelled', 'pred_masks'):
            value = getattr(self, name)
            if value is not None:
                return int(value.shape[0])
        return len(self.metainfo.get('frame_indices', ()))
