import numpy as np
import pytest

from echoseg.datasets.transforms import RandomSpeckleNoise
from echoseg.registry import TRANSFORMS


def _clip(value=100.0, t=3, h=64, w=64):
    masks = np.zeros((t, h, w), np.uint8)
    masks[:, 20:40, 10:30] = 1
    return dict(video=np.full((t, h, w), value, np.float32), masks=masks)


def test_unit_mean_multiplicative_noise_of_the_drawn_strength():
    res = RandomSpeckleNoise(prob=1.0, sigma_range=(0.3, 0.3), grain_range=(0.0, 0.0),
                             seed=0)(_clip())
    v = res['video']
    # log-normal exp(s z - s^2/2): mean 1, relative std sqrt(exp(s^2) - 1)
    assert v.mean() == pytest.approx(100.0, rel=0.02)
    assert v.std() / v.mean() == pytest.approx(np.sqrt(np.exp(0.09) - 1), rel=0.05)
    # multiplicative: a black region stays black
    res = RandomSpeckleNoise(prob=1.0, seed=0)(_clip(value=0.0))
    assert np.all(res['video'] == 0)


def test_grain_correlates_neighbours_and_frames_differ():
    res = RandomSpeckleNoise(prob=1.0, sigma_range=(0.2, 0.2), grain_range=(2.0, 2.0),
                             seed=1)(_clip())
    v = np.log(res['video'][0])
    a, b = v[:, :-1].ravel() - v.mean(), v[:, 1:].ravel() - v.mean()
    assert np.dot(a, b) / np.sqrt(np.dot(a, a) * np.dot(b, b)) > 0.7   # grains > 1 pixel
    assert not np.allclose(res['video'][0], res['video'][1])           # fresh per frame


def test_mask_unchanged_range_and_seed():
    clip = _clip(value=230.0)
    masks = clip['masks'].copy()
    res = RandomSpeckleNoise(prob=1.0, sigma_range=(0.5, 0.5), seed=3)(clip)
    assert np.array_equal(res['masks'], masks)
    assert res['video'].min() >= 0 and res['video'].max() <= 255
    assert res['video'].max() == 255                                   # clipped, not wrapped
    again = RandomSpeckleNoise(prob=1.0, sigma_range=(0.5, 0.5), seed=3)(_clip(value=230.0))
    assert np.array_equal(res['video'], again['video'])
    other = RandomSpeckleNoise(prob=1.0, sigma_range=(0.5, 0.5), seed=4)(_clip(value=230.0))
    assert not np.array_equal(res['video'], other['video'])


def test_registered_and_validated():
    t = TRANSFORMS.build(dict(type='RandomSpeckleNoise', prob=0.0))
    clip = _clip()
    assert np.array_equal(t(dict(clip))['video'], clip['video'])
    with pytest.raises(ValueError, match='non-negative'):
        RandomSpeckleNoise(sigma_range=(-0.1, 0.2))
