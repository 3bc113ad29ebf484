import pytest
import torch

from echoseg.structures import IGNORE_INDEX, EchoDataSample


def test_fields_and_metainfo():
    s = EchoDataSample(metainfo=dict(video_id='v1', ed_index=0, es_index=9))
    s.gt_masks = torch.full((10, 8, 8), IGNORE_INDEX)
    s.labelled = torch.zeros(10, dtype=torch.bool)
    assert s.num_frames == 10
    assert set(s.keys()) == {'gt_masks', 'labelled'}
    assert s.video_id == 'v1' and s.es_index == 9
    d = s.to_dict()
    assert d['gt_masks'].shape == (10, 8, 8) and d['video_id'] == 'v1'
    del s.gt_masks
    assert s.gt_masks is None


def test_rejects_non_tensors():
    s = EchoDataSample()
    with pytest.raises(TypeError, match='gt_masks'):
        s.gt_masks = [[0, 1]]
