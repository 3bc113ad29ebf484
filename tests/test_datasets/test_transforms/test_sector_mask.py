import numpy as np
import pytest

from echoseg.datasets.transforms import RandomSectorMask


def _clip(h=60, w=80):
    rng = np.random.default_rng(0)
    masks = np.zeros((2, h, w), np.uint8)
    masks[:, 20:40, 30:50] = 1
    return dict(video=rng.uniform(1, 255, (2, h, w)).astype(np.float32), masks=masks)


def test_outside_the_fan_is_filled_inside_unchanged():
    clip = _clip()
    video, masks = clip['video'].copy(), clip['masks'].copy()
    res = RandomSectorMask(prob=1.0, half_angle_range=(30, 30), radius_range=(0.8, 0.8),
                           shift_range=(0, 0), fill=0)(clip)
    rows, cols = np.mgrid[:60, :80]
    dy, dx = rows - 0.0, cols - 39.5
    inside = (np.hypot(dy, dx) <= 48) & (np.degrees(np.arctan2(np.abs(dx), dy)) <= 30)
    assert np.all(res['video'][:, ~inside] == 0)
    np.testing.assert_array_equal(res['video'][:, inside], video[:, inside])
    assert np.array_equal(res['masks'], masks)           # the anatomy stays labelled
    assert res['aug_sector']['half_angle_deg'] == 30


def test_one_fan_per_clip_and_seeded():
    a = RandomSectorMask(prob=1.0, seed=3)(_clip())
    b = RandomSectorMask(prob=1.0, seed=3)(_clip())
    assert np.array_equal(a['video'], b['video'])
    assert np.array_equal(a['video'][0] == 0, a['video'][1] == 0)
    with pytest.raises(ValueError, match='half_angle_range'):
        RandomSectorMask(half_angle_range=(0, 120))
