import numpy as np
import pytest
from matplotlib.path import Path

from echoseg.datasets.errors import EchoDataError
from echoseg.datasets.transforms import LoadEchoAnnotations, LoadEchoVideo, PackEchoInputs
from echoseg.structures import IGNORE_INDEX


def _video(n=5, h=20, w=24):
    return np.zeros((n, h, w), np.uint8)


def test_polygons_are_filled_like_point_in_polygon():
    poly = np.array([[4.0, 3.0], [18.0, 5.0], [15.0, 16.0], [6.0, 14.0]])
    res = LoadEchoAnnotations()(LoadEchoVideo()(dict(video=_video(), polygons={2: poly},
                                                     video_id='v')))
    assert res['labelled'].tolist() == [False, False, True, False, False]
    assert (res['masks'][0] == IGNORE_INDEX).all()
    yy, xx = np.mgrid[:20, :24]
    inside = Path(poly).contains_points(np.c_[xx.ravel(), yy.ravel()]).reshape(20, 24)
    # agree everywhere except possibly on the one-pixel boundary
    disagree = (res['masks'][2] == 1) != inside
    assert disagree.sum() <= 0.25 * inside.sum()
    assert (res['masks'][2][inside] == 1).mean() > 0.95


def test_label_map_and_labelled_frames():
    masks = np.zeros((5, 20, 24), np.uint8)
    masks[:, :5] = 1
    masks[:, 5:10] = 2
    masks[:, 10:12] = 3
    res = LoadEchoAnnotations()(dict(video=_video(), masks=masks, labelled_frames=[0, 4],
                                     label_map={1: 1}))
    assert res['labelled'].tolist() == [True, False, False, False, True]
    assert set(np.unique(res['masks'][0])) == {0, 1}
    assert (res['masks'][0, :5] == 1).all() and (res['masks'][0, 5:] == 0).all()
    assert (res['masks'][2] == IGNORE_INDEX).all()


def test_shape_mismatch_names_the_source():
    bad = np.zeros((5, 10, 10), np.uint8)
    with pytest.raises(EchoDataError, match=r'mask shape \(10, 10\) does not match'):
        LoadEchoAnnotations()(dict(video=_video(), masks=bad, video_id='case7'))
    with pytest.raises(EchoDataError, match='case7'):
        LoadEchoAnnotations()(dict(video=_video(), polygons={9: np.ones((3, 2))},
                                   video_id='case7'))


def test_video_required():
    with pytest.raises(EchoDataError, match='neither'):
        LoadEchoVideo()(dict(video_id='x'))


def test_pack_contract():
    res = LoadEchoAnnotations()(dict(video=_video(), masks=np.ones((5, 20, 24), np.uint8),
                                     labelled_frames=[0], video_id='v', spacing=(0.5, 0.5),
                                     ef=55.0, not_meta='x'))
    packed = PackEchoInputs()(res)
    assert packed['inputs'].shape == (5, 1, 20, 24)
    s = packed['data_samples']
    assert s.gt_masks.dtype.is_floating_point is False and s.gt_masks.shape == (5, 20, 24)
    assert s.labelled.tolist() == [True, False, False, False, False]
    assert s.video_id == 'v' and s.ef == 55.0 and 'not_meta' not in s.metainfo
    assert s.ori_shape == (20, 24)
