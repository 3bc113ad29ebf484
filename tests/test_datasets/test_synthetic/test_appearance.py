"""The realistic look (default) against the classic one, CAMUS's display and the contrast at
each difficulty, measured on the pixels."""
import cv2
import numpy as np

from echoseg.datasets.synthetic import GEOMETRIES, SyntheticEchoGenerator
from synthetic_checks import inside_sector


def region_levels(outs):
    """Median gray of blood (eroded LV), myocardium (label 2) and tissue far from the heart,
    pooled over the ED frames of several videos."""
    pooled = [[], [], []]
    for out in outs:
        f = out['ed_frame']
        img, lab = out['video'][f], out['labels'][f]
        heart = cv2.dilate((lab > 0).astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
        sector = inside_sector(out, img.shape)
        blood = cv2.erode((lab == 1).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        for acc, m in zip(pooled, (blood, lab == 2, sector & ~heart)):
            acc.append(img[m])
    return [float(np.median(np.concatenate(p))) for p in pooled]


def test_realistic_is_default_and_darker_than_classic():
    real = SyntheticEchoGenerator(112)
    assert real.style == 'realistic' and real.geometry == 'echonet'
    classic = SyntheticEchoGenerator(112, style='classic')
    lv_r, myo_r, tis_r = region_levels([real.generate(s) for s in range(6)])
    lv_c, myo_c, tis_c = region_levels([classic.generate(s) for s in range(6)])
    # EchoNet's ED/ES frames: blood near black (median 2), tissue dark to mid gray (29)
    assert lv_r < 10 and tis_r < 60 and myo_r > lv_r + 30
    assert tis_c > tis_r + 30 and lv_c > lv_r + 15       # the classic look is bright


def test_contrast_and_difficulty():
    means = {}
    for level in ('easy', 'hard'):
        gen = SyntheticEchoGenerator(96, difficulty=level)
        gaps = []
        for seed in range(3):
            out = gen.generate(seed, num_frames=24)
            v, lab = out['video'].astype(float), out['labels']
            lv, myo = v[lab == 1].mean(), v[lab == 2].mean()
            assert lv < myo                                   # blood darker than the wall
            gaps.append(myo - lv)
        means[level] = np.mean(gaps)
    assert means['easy'] > means['hard'] + 20


def test_camus_display_is_brighter_with_less_contrast():
    stats = {}
    for geometry in GEOMETRIES:
        gen = SyntheticEchoGenerator((120, 144), geometry=geometry, depth_range_mm=(130, 130))
        pixels = []
        for seed in range(3):
            out = gen.generate_long(seed, num_frames=1)
            pixels.append(out['video'][0][inside_sector(out, (120, 144))])
        pixels = np.concatenate(pixels).astype(float)
        stats[geometry] = (pixels.mean(), pixels.std() / pixels.mean())
    # CAMUS sample: sector mean 108, relative spread 0.38; EchoNet: dark, spread above 1
    assert stats['camus'][0] > stats['echonet'][0] + 30
    assert stats['camus'][1] < 0.7 * stats['echonet'][1]
