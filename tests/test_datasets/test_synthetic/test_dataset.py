"""SyntheticEchoDataset: light index, data info of the clip contract, semi/full modes."""
import json
import pickle

import numpy as np
import pytest

from echoseg.datasets.synthetic import SyntheticEchoDataset, synthetic_classes
from echoseg.registry import DATASETS

CONTRACT_KEYS = {'video_id', 'patient_id', 'view', 'ed_frame', 'es_frame', 'video', 'masks',
                 'labelled_frames', 'label_map', 'spacing', 'ef', 'edv', 'esv'}


@pytest.fixture(scope='module')
def semi():
    return SyntheticEchoDataset(num_videos=3, seed=4, image_size=96, num_frames_range=(24, 30))


def test_registered_and_metainfo():
    ds = DATASETS.build(dict(type='SyntheticEchoDataset', num_videos=2, seed=1, image_size=64))
    assert isinstance(ds, SyntheticEchoDataset) and len(ds) == 2
    assert ds.metainfo['classes'] == ('background', 'LV')
    assert ds.metainfo['palette'] == [[0, 0, 0], [255, 0, 0]]
    full = SyntheticEchoDataset(num_videos=1, image_size=64, label_map={1: 1, 2: 2, 3: 3})
    assert full.metainfo['classes'] == ('background', 'LV', 'myocardium', 'other_chambers')
    assert len(full.metainfo['palette']) == 4
    assert synthetic_classes({1: 1, 2: 1}) == ('background', 'LV+myocardium')
    custom = SyntheticEchoDataset(num_videos=1, image_size=64, metainfo=dict(classes=('bg', 'x')))
    assert custom.metainfo['classes'] == ('bg', 'x')
    with pytest.raises(ValueError):
        SyntheticEchoDataset(num_videos=1, mode='weak')


def test_index_is_light_and_deterministic(semi):
    raw = SyntheticEchoDataset(num_videos=3, seed=4, image_size=96, num_frames_range=(24, 30),
                               serialize_data=False)
    for e in raw.data_list:
        json.dumps(e)                                     # plain python, no pixel arrays
        assert e['view'] == 'A4C' and e['patient_id'] == e['video_id']
        assert 24 <= e['num_frames'] <= 30
        assert abs(e['ed_frame'] - e['es_frame']) >= 7
    assert len(pickle.dumps(raw.data_list)) < 20000
    again = SyntheticEchoDataset(num_videos=3, seed=4, image_size=96, num_frames_range=(24, 30))
    a, b = semi[1], again[1]
    assert np.array_equal(a['video'], b['video']) and np.array_equal(a['masks'], b['masks'])
    other = SyntheticEchoDataset(num_videos=2, seed=5, image_size=96, num_frames_range=(24, 30))
    assert other[1]['video_id'] != a['video_id'] and other[1]['ef'] != a['ef']
    assert len({semi[i]['video_id'] for i in range(3)}) == 3


def test_getitem_semi_contract(semi):
    info = semi[0]                                        # no pipeline: the data info itself
    assert CONTRACT_KEYS <= set(info)
    n = info['video'].shape[0]
    assert info['video'].shape == info['masks'].shape == (n, 96, 96)
    assert info['video'].dtype == info['masks'].dtype == np.uint8
    ed, es = info['ed_frame'], info['es_frame']
    assert info['labelled_frames'] == [ed, es]
    assert info['label_map'] is None and info['hidden_masks_available'] is True
    masks, oracle = info['masks'], info['oracle_masks']
    others = [k for k in range(n) if k not in (ed, es)]
    assert np.all(masks[others] == 255)                   # nothing leaks from other frames
    assert np.array_equal(masks[[ed, es]], oracle[[ed, es]])
    assert set(np.unique(oracle)) == {0, 1}               # default label_map: LV vs rest
    area = (oracle == 1).sum((1, 2))
    assert area[ed] >= 0.99 * area.max() and area[es] <= 1.01 * area.min()
    assert info['ef'] == pytest.approx((info['edv'] - info['esv']) / info['edv'] * 100)
    row_mm, col_mm = info['spacing']
    assert 100 / 96 <= row_mm <= 160 / 90
    lv = info['video'][oracle == 1].mean()
    assert lv < info['video'][info['video'] > 0].mean()   # the cavity is dark


def test_full_mode_and_label_map():
    ds = SyntheticEchoDataset(num_videos=1, seed=4, image_size=96, num_frames_range=(24, 30),
                              mode='full', label_map={1: 1, 2: 2, 3: 3})
    info = ds[0]
    n = info['video'].shape[0]
    assert info['labelled_frames'] == list(range(n))
    assert set(np.unique(info['masks'])) == {0, 1, 2, 3}
    # the same video as in semi mode, the same LV
    semi = SyntheticEchoDataset(num_videos=1, seed=4, image_size=96, num_frames_range=(24, 30))
    s = semi[0]
    assert np.array_equal(s['video'], info['video'])
    assert np.array_equal(s['oracle_masks'] == 1, info['masks'] == 1)
    merged = SyntheticEchoDataset(num_videos=1, seed=4, image_size=96,
                                  num_frames_range=(24, 30), mode='full', label_map={2: 1})
    m = merged[0]['masks']
    assert np.array_equal(m == 1, info['masks'] == 2)     # unmapped labels become 0


def test_lazy_init_and_indices():
    ds = SyntheticEchoDataset(num_videos=4, seed=2, image_size=64, lazy_init=True)
    assert not ds._fully_initialized
    ds.full_init()
    assert len(ds) == 4
    sub = SyntheticEchoDataset(num_videos=4, seed=2, image_size=64, indices=[2])
    assert len(sub) == 1 and sub[0]['video_id'] == ds[2]['video_id']
    assert np.array_equal(sub[0]['video'], ds[2]['video'])


def test_through_the_clip_pipeline():
    """The data info feeds the stock clip pipeline; a video with ED after ES runs ED -> ES."""
    from mmengine.registry import init_default_scope
    init_default_scope('echoseg')
    pipeline = [dict(type='LoadEchoVideo'), dict(type='LoadEchoAnnotations'),
                dict(type='SampleClipFrames', num_frames=10),
                dict(type='ResizeClip', scale=(64, 64)), dict(type='PackEchoInputs')]
    ds = SyntheticEchoDataset(num_videos=6, seed=0, image_size=96, pipeline=pipeline,
                              serialize_data=False)
    idx = next(i for i, e in enumerate(ds.data_list) if e['ed_frame'] > e['es_frame'])
    entry = ds.data_list[idx]
    out = ds[idx]
    sample = out['data_samples']
    assert tuple(out['inputs'].shape) == (10, 1, 64, 64)
    frames = list(sample.metainfo['frame_indices'])
    assert frames[0] == entry['ed_frame'] and frames[-1] == entry['es_frame']
    assert sample.labelled.tolist() == [True] + [False] * 8 + [True]
    gt = sample.gt_masks
    assert set(gt[0].unique().tolist()) == {0, 1} and bool((gt[1:9] == 255).all())
    assert (gt[0] == 1).sum() > (gt[9] == 1).sum()          # ED cavity larger than ES


def test_generator_cfg_reaches_the_generator():
    ds = SyntheticEchoDataset(num_videos=2, image_size=64, generator_cfg=dict(a2c_fraction=1.0),
                              serialize_data=False)
    assert {e['view'] for e in ds.data_list} == {'A2C'}
