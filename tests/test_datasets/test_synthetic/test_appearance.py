"""The realistic look of the synthetic generator (default) against the classic one, its
sector geometries, pose variation, views and valve timing; measured on the pixels and on
geometry rebuilt here from the reported sector and spacing."""
import math

import cv2
import numpy as np
import pytest

from echoseg.datasets.synthetic import (GEOMETRIES, STYLES, SyntheticEchoDataset,
                                        SyntheticEchoGenerator, difficulty_knobs)


def inside_sector(out, shape):
    row_mm, col_mm = out['spacing']
    sec = out['sector']
    rr, cc = np.mgrid[:shape[0], :shape[1]]
    y, x = (rr - sec['apex'][0]) * row_mm, (cc - sec['apex'][1]) * col_mm
    return (np.hypot(x, y) <= sec['radius_mm']) & (
        np.degrees(np.abs(np.arctan2(x, y))) <= sec['half_angle_deg'])


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


def test_choices_are_validated():
    with pytest.raises(ValueError, match='style'):
        SyntheticEchoGenerator(64, style='photoreal')
    with pytest.raises(ValueError, match='geometry'):
        SyntheticEchoGenerator(64, geometry='philips')
    with pytest.raises(ValueError, match='a2c_fraction'):
        SyntheticEchoGenerator(64, a2c_fraction=1.5)
    with pytest.raises(KeyError, match="style 'classic'"):
        SyntheticEchoGenerator(64, style='classic', knobs=dict(gain_db=-20))
    assert 'gain_db' in difficulty_knobs('medium') and set(STYLES) == {'realistic', 'classic'}
    assert set(GEOMETRIES) == {'echonet', 'camus'}


def test_echonet_fan_is_cut_by_the_frame_camus_fan_is_whole():
    gen = SyntheticEchoGenerator(112)
    for seed in range(3):
        out = gen.generate_long(seed, num_frames=1)
        inside = inside_sector(out, (112, 112))
        # as EchoNet's fans: the sides cut by the frame from about 60 % of the height,
        # the arc cutting the bottom corners, the apex near the top
        assert inside[90].all() and not inside[-1].all() and inside[-1].sum() > 40
        assert inside[2].sum() < 10
        assert np.all(out['video'][0][~inside] == 0)
        assert out['sector']['apex'][1] > 55.5                # a little right of the centre
    h, w = 210, 256
    camus = SyntheticEchoGenerator((h, w), geometry='camus', depth_range_mm=(130, 130))
    out = camus.generate_long(1, num_frames=1)
    row_mm, col_mm = out['spacing']
    assert row_mm == pytest.approx(130 / (h - 2 - out['sector']['apex'][0]))
    assert col_mm >= row_mm
    inside = inside_sector(out, (h, w))
    assert not inside[:, 0].any() and not inside[:, -1].any()   # the whole fan in the frame
    assert inside[-5, w // 2] and not inside[-1, 5]


def test_camus_pixel_size_at_camus_image_size():
    gen = SyntheticEchoGenerator((430, 512), geometry='camus', depth_range_mm=(120, 150))
    sizes = [gen.plan_long(s, 1).spacing for s in range(4)]
    assert all(0.15 <= r <= 0.36 and 0.15 <= c <= 0.36 for r, c in sizes)


def lv_pose(mask):
    rows, cols = np.nonzero(mask)
    pts = np.stack([cols, rows], 1).astype(float)
    _, vecs = np.linalg.eigh(np.cov((pts - pts.mean(0)).T))
    axis = vecs[:, -1] if vecs[1, -1] > 0 else -vecs[:, -1]
    return pts.mean(0), math.degrees(math.atan2(axis[0], axis[1])), mask.sum()


def test_pose_and_size_vary_more_than_classic():
    spread = {}
    for style in STYLES:
        gen = SyntheticEchoGenerator(96, style=style)
        poses = [lv_pose(gen.generate(s, num_frames=24)['labels'][0] == 1) for s in range(12)]
        spread[style] = (np.std([p[1] for p in poses]), np.std([p[0][0] for p in poses]),
                         np.std([p[0][1] for p in poses]))
    assert spread['realistic'][0] > spread['classic'][0]      # tilt
    assert spread['realistic'][1] > spread['classic'][1]      # horizontal position
    assert spread['realistic'][2] > spread['classic'][2]      # vertical position


def test_two_chamber_and_mirrored_views():
    a2c = SyntheticEchoGenerator(96, a2c_fraction=1.0).generate(3)
    assert a2c['view'] == 'A2C'
    other = (a2c['labels'][a2c['ed_frame']] == 3).astype(np.uint8)
    n, _ = cv2.connectedComponents(other)
    assert n == 2                                              # the left atrium only
    a4c = SyntheticEchoGenerator(96).generate(3)
    assert a4c['view'] == 'A4C'
    assert cv2.connectedComponents((a4c['labels'][0] == 3).astype(np.uint8))[0] >= 3
    for mirrored in (False, True):
        gen = SyntheticEchoGenerator(96, mirror_fraction=float(mirrored))
        for seed in range(3):
            out = gen.generate(seed)
            lab = out['labels'][out['ed_frame']]
            lv_x = np.nonzero(lab == 1)[1].mean()
            rv_x = np.nonzero(lab == 3)[1].mean()
            assert out['mirrored'] is mirrored
            assert (lv_x < rv_x) == mirrored                   # the LV left when mirrored
    ds = SyntheticEchoDataset(num_videos=2, image_size=64, generator_cfg=dict(a2c_fraction=1.0),
                              serialize_data=False)
    assert {e['view'] for e in ds.data_list} == {'A2C'}


def test_foreshortened_views_are_shorter_and_blunter():
    plans = {}
    for value in (0.0, 1.0):
        gen = SyntheticEchoGenerator(96, knobs=dict(foreshortening=value))
        plans[value] = [gen.plan(s) for s in range(10)]
    assert all(p.heart['foreshortened'] for p in plans[1.0])
    assert not any(p.heart['foreshortened'] for p in plans[0.0])
    # the same seed draws the same heart; foreshortening cuts its length, not its width
    def slenderness(p):
        return p.heart['L_ed'] / p.heart['b_ed']

    ratio = [slenderness(p1) / slenderness(p0) for p0, p1 in zip(plans[0.0], plans[1.0])]
    assert np.all((np.array(ratio) > 0.7) & (np.array(ratio) < 0.9))
    assert min(p.heart['bullet'] for p in plans[1.0]) >= 2.8


def test_mitral_valve_timing():
    opening = SyntheticEchoGenerator.mitral_opening
    assert opening(0.0, 0.35) == 0.0 and opening(0.2, 0.35) == 0.0   # closed in systole
    assert opening(0.99, 0.35) == 0.0                                   # closed at ED
    assert opening(0.45, 0.35) > 0.9                                    # open early filling
    assert opening(0.65, 0.35) < opening(0.45, 0.35)                    # diastasis
    assert opening(0.88, 0.35) > opening(0.65, 0.35)                    # atrial kick


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
