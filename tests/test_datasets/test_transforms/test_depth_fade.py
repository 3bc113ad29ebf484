import numpy as np
import pytest

from echoseg.datasets.transforms import RandomDepthFade
from echoseg.datasets.transforms.time_gain_compensation import depth_map


def _clip(t=2, h=60, w=60):
    rng = np.random.default_rng(0)
    masks = np.zeros((t, h, w), np.uint8)
    masks[:, 30:50, 20:40] = 1
    return dict(video=rng.uniform(50, 200, (t, h, w)).astype(np.float32), masks=masks)


def test_shallow_unchanged_deep_darker_monotone():
    clip = _clip()
    video = clip['video'].copy()
    res = RandomDepthFade(prob=1.0, start_range=(0.5, 0.5), strength_range=(0.6, 0.6),
                          seed=0)(clip)
    d = depth_map(60, 60)
    shallow = d <= 0.5
    np.testing.assert_allclose(res['video'][:, shallow], video[:, shallow])
    ratio = res['video'][0] / video[0]
    # independent ramp: 1 - 0.6 * raised cosine from depth 0.5 to 1
    x = np.clip((d - 0.5) / 0.5, 0, 1)
    np.testing.assert_allclose(ratio, 1 - 0.6 * (0.5 - 0.5 * np.cos(np.pi * x)), rtol=1e-5)
    centre = ratio[:, 30]
    assert np.all(np.diff(centre) <= 1e-6) and centre[-1] < 0.5


def test_mask_unchanged_seed_and_validation():
    clip = _clip()
    masks = clip['masks'].copy()
    a = RandomDepthFade(prob=1.0, seed=2)(clip)
    b = RandomDepthFade(prob=1.0, seed=2)(_clip())
    assert np.array_equal(a['masks'], masks) and np.array_equal(a['video'], b['video'])
    assert 0 <= a['video'].min() and a['video'].max() <= 255
    with pytest.raises(ValueError, match='strength_range'):
        RandomDepthFade(strength_range=(0.5, 1.5))
