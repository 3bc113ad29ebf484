import numpy as np
import pytest

from echoseg.datasets.transforms import RandomTimeGainCompensation
from echoseg.datasets.transforms.time_gain_compensation import depth_map


def _clip(t=2, h=50, w=40, value=60.0):
    masks = np.zeros((t, h, w), np.uint8)
    masks[:, 10:30, 10:30] = 1
    return dict(video=np.full((t, h, w), value, np.float32), masks=masks)


def test_depth_map_is_distance_from_top_centre_over_height():
    d = depth_map(50, 41)
    assert d[0, 20] == 0.0
    assert d[49, 20] == pytest.approx(49 / 50)
    assert d[30, 0] == pytest.approx(np.hypot(30, 20) / 50)


def test_slope_brightens_deep_pixels_by_the_given_db():
    res = RandomTimeGainCompensation(prob=1.0, gain_db_range=(0, 0), slope_db_range=(12, 12),
                                     knot_db_range=(0, 0), seed=0)(_clip())
    v = res['video'][0]
    d = depth_map(50, 40)
    np.testing.assert_allclose(v, np.minimum(60.0 * 10 ** (12 * d / 20), 255), rtol=1e-5)
    assert v[-1].mean() > 3 * v[0].mean()          # 12 dB is about x4 at depth ~1
    res = RandomTimeGainCompensation(prob=1.0, gain_db_range=(0, 0), slope_db_range=(-12, -12),
                                     knot_db_range=(0, 0), seed=0)(_clip())
    assert res['video'][0][-1].mean() < 0.3 * 60.0   # darkens the far field


def test_overall_gain_knots_and_clipping():
    res = RandomTimeGainCompensation(prob=1.0, gain_db_range=(20, 20), slope_db_range=(0, 0),
                                     knot_db_range=(0, 0))(_clip())
    assert np.all(res['video'] == 255)             # x10 clipped to the display range
    tgc = RandomTimeGainCompensation(prob=1.0, gain_db_range=(0, 0), slope_db_range=(0, 0),
                                     knot_db_range=(-6, 6), num_knots=3, seed=5)
    res = tgc(_clip())
    knots = res['aug_tgc']['knots_db']
    d = depth_map(50, 40)
    expected = 60.0 * 10 ** (np.interp(d, [0, 0.5, 1], knots) / 20)
    np.testing.assert_allclose(res['video'][1], expected, rtol=1e-5)
    assert np.array_equal(res['video'][0], res['video'][1])   # one curve for the clip


def test_mask_unchanged_and_seeded():
    clip = _clip()
    masks = clip['masks'].copy()
    a = RandomTimeGainCompensation(prob=1.0, seed=7)(clip)
    b = RandomTimeGainCompensation(prob=1.0, seed=7)(_clip())
    assert np.array_equal(a['masks'], masks)
    assert np.array_equal(a['video'], b['video'])
    with pytest.raises(ValueError, match='num_knots'):
        RandomTimeGainCompensation(num_knots=1)
