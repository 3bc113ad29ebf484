import numpy as np
import pytest

from echoseg.datasets.transforms import RandomClipBlur


def high_frequency_energy(frame, cutoff=0.25):
    """Power of the 2-D spectrum above ``cutoff`` cycles per pixel (numpy FFT)."""
    spec = np.abs(np.fft.fft2(frame - frame.mean())) ** 2
    fy = np.fft.fftfreq(frame.shape[0])[:, None]
    fx = np.fft.fftfreq(frame.shape[1])[None, :]
    return float(spec[np.hypot(fy, fx) > cutoff].sum())


def _clip():
    rng = np.random.default_rng(0)
    masks = np.zeros((2, 48, 48), np.uint8)
    masks[:, 10:20, 10:30] = 1
    return dict(video=rng.uniform(0, 255, (2, 48, 48)).astype(np.float32), masks=masks)


def test_blur_removes_high_frequencies_and_keeps_the_mean():
    clip = _clip()
    before = [high_frequency_energy(f) for f in clip['video']]
    mean = clip['video'].mean()
    res = RandomClipBlur(prob=1.0, sigma_range=(1.0, 1.0), aspect_range=(1.5, 1.5))(clip)
    after = [high_frequency_energy(f) for f in res['video']]
    assert all(a < 0.05 * b for a, b in zip(after, before))
    assert res['video'].mean() == pytest.approx(mean, rel=0.02)
    assert res['aug_blur'] == pytest.approx((1.0, 1.5))


def test_wider_across_than_along_the_beam():
    clip = _clip()
    res = RandomClipBlur(prob=1.0, sigma_range=(0.5, 0.5), aspect_range=(3.0, 3.0))(clip)
    v = res['video'][0] - res['video'][0].mean()
    lateral = np.mean(v[:, :-1] * v[:, 1:]) / v.var()
    axial = np.mean(v[:-1] * v[1:]) / v.var()
    assert lateral > axial + 0.2


def test_mask_unchanged_seed_range():
    clip = _clip()
    masks = clip['masks'].copy()
    a = RandomClipBlur(prob=1.0, seed=4)(clip)
    b = RandomClipBlur(prob=1.0, seed=4)(_clip())
    assert np.array_equal(a['masks'], masks) and np.array_equal(a['video'], b['video'])
    assert 0 <= a['video'].min() and a['video'].max() <= 255
    with pytest.raises(ValueError, match='positive'):
        RandomClipBlur(sigma_range=(0.0, 1.0))
