import numpy as np

from echoseg.datasets.transforms import RandomClipContrast, RandomClipGamma


def test_gamma_formula_same_for_all_frames():
    video = np.stack([np.full((4, 4), 64, np.uint8), np.full((4, 4), 128, np.uint8)])
    res = RandomClipGamma(prob=1.0, gamma_range=(1.3, 1.7), seed=1)(dict(video=video))
    g = res['aug_gamma']
    assert 1.3 <= g <= 1.7
    np.testing.assert_allclose(res['video'][0], 255 * (64 / 255) ** g, rtol=1e-5)
    np.testing.assert_allclose(res['video'][1], 255 * (128 / 255) ** g, rtol=1e-5)


def test_contrast_about_clip_mean_and_clipped():
    video = np.stack([np.full((2, 2), 100, np.uint8), np.full((2, 2), 200, np.uint8)])
    res = RandomClipContrast(prob=1.0, contrast_range=(2.0, 2.0))(dict(video=video))
    np.testing.assert_allclose(res['video'][0], 50.0)   # 150 + 2 * (100 - 150)
    np.testing.assert_allclose(res['video'][1], 250.0)  # 150 + 2 * (200 - 150)
    res = RandomClipContrast(prob=1.0, contrast_range=(4.0, 4.0))(dict(video=video))
    assert res['video'].min() == 0 and res['video'].max() == 255
