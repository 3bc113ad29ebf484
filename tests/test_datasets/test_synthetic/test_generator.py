"""The synthetic echo generator, checked against computations made here, not in the generator.

Volumes: the LV masks are measured with our own single-plane method of disks (20 disks along
the mask's principal axis, in mm from the reported spacing); the sector is rebuilt from the
reported apex, radius and opening angle; speckle statistics are measured on the pixels.
"""
import time

import cv2
import numpy as np
import pytest

from echoseg.datasets.synthetic import (DIFFICULTY_LEVELS, SyntheticEchoGenerator,
                                        cardiac_contraction, difficulty_knobs,
                                        resolve_difficulty)

SEEDS = [(0, 0), (0, 1), (7, 3), (11, 5)]


@pytest.fixture(scope='module')
def medium():
    gen = SyntheticEchoGenerator(128, difficulty='medium')
    return [gen.generate(s) for s in SEEDS]


def disk_volume_ml(mask, spacing, n_disks=20):
    """Single-plane Simpson volume: disks perpendicular to the principal axis of the mask."""
    rows, cols = np.nonzero(mask)
    pts = np.stack([rows * spacing[0], cols * spacing[1]], 1)
    q = pts - pts.mean(0)
    _, vecs = np.linalg.eigh(q.T @ q)
    t = q @ vecs[:, -1]
    pix = 0.5 * max(spacing)
    lo, hi = t.min() - pix, t.max() + pix
    h = (hi - lo) / n_disks
    slab = np.clip(((t - lo) / h).astype(int), 0, n_disks - 1)
    diam = np.bincount(slab, minlength=n_disks) * spacing[0] * spacing[1] / h  # mean width
    return float(np.sum(np.pi / 4.0 * diam ** 2 * h)) / 1000.0


def corr(a, b):
    a = a - a.mean()
    b = b - b.mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


def test_difficulty_levels():
    assert resolve_difficulty('easy') == 0.0 and resolve_difficulty('hard') == 1.0
    assert resolve_difficulty(0.3) == 0.3
    with pytest.raises(ValueError):
        resolve_difficulty('extreme')
    with pytest.raises(ValueError):
        resolve_difficulty(1.5)
    easy, hard = difficulty_knobs('easy'), difficulty_knobs('hard')
    assert hard['blood_db'] > easy['blood_db']            # less blood/tissue contrast
    assert hard['dropout_rate'] > easy['dropout_rate']
    assert hard['shadow_rate'] > easy['shadow_rate']
    assert hard['noise_db'] > easy['noise_db']
    assert set(DIFFICULTY_LEVELS) == {'easy', 'medium', 'hard'}
    with pytest.raises(KeyError):
        SyntheticEchoGenerator(64, knobs=dict(not_a_knob=1))


def test_cardiac_cycle_shape():
    phase = np.linspace(0, 1, 1001)[:-1]
    c = cardiac_contraction(phase, systole_fraction=0.35)
    assert c[0] == 0.0 and abs(c[350] - 1.0) < 1e-9          # ED at 0, ES at 0.35
    assert np.all(np.diff(c[:351]) >= 0)                      # systole: monotone ejection
    assert np.all(np.diff(c[350:]) <= 1e-12)                  # diastole: monotone filling
    assert c[350 + int(0.45 * 650)] < 0.35                    # early filling done by mid-diastole


def test_determinism_and_seeds():
    gen = SyntheticEchoGenerator(64, difficulty='medium')
    a = gen.generate((3, 1))
    np.random.seed(123)                                       # global state must not matter
    b = SyntheticEchoGenerator(64, difficulty='medium').generate((3, 1))
    assert np.array_equal(a['video'], b['video']) and np.array_equal(a['labels'], b['labels'])
    assert a['ef'] == b['ef'] and a['ed_frame'] == b['ed_frame']
    c = gen.generate((3, 2))
    d = gen.generate((4, 1))
    for other in (c, d):
        n = min(len(other['video']), len(a['video']))
        assert not np.array_equal(a['video'][:n], other['video'][:n])
    # the heart does not depend on the number of frames asked for
    p1, p2 = gen.plan((3, 1), 30), gen.plan((3, 1), 36)
    assert p1.heart['L_ed'] == p2.heart['L_ed'] and p1.spacing == p2.spacing


def test_shapes_labels_timing(medium):
    seen_ed_after_es = []
    for out in medium:
        video, labels = out['video'], out['labels']
        n = out['num_frames']
        assert video.shape == labels.shape == (n, 128, 128)
        assert video.dtype == labels.dtype == np.uint8
        assert 24 <= n <= 40
        assert set(np.unique(labels)) == {0, 1, 2, 3}
        for k in range(n):                                    # every frame fully labelled
            assert (labels[k] == 1).sum() > 50 and (labels[k] == 2).sum() > 50
        assert out['frames_per_cycle'] <= n                   # at least one full cycle
        assert abs(out['ed_frame'] - out['es_frame']) >= 7    # >= 8 frames ED..ES
        seen_ed_after_es.append(out['ed_frame'] > out['es_frame'])
        assert len(out['lv_volumes']) == n
    gen = SyntheticEchoGenerator(32)
    orders = {gen.plan((5, i)).ed_frame > gen.plan((5, i)).es_frame for i in range(30)}
    assert orders == {True, False}                            # ED may come after ES


def test_lv_area_follows_volume(medium):
    for out in medium:
        area = (out['labels'] == 1).sum((1, 2)).astype(float)
        vol = np.asarray(out['lv_volumes'])
        ed, es = out['ed_frame'], out['es_frame']
        assert ed == int(np.argmax(vol)) and es == int(np.argmin(vol))
        assert area[ed] >= 0.99 * area.max()                  # ties of a pixel or two allowed
        assert area[es] <= 1.01 * area.min()
        assert corr(area, vol) > 0.98


def test_ef_from_masks_matches_reported(medium):
    for out in medium:
        ed, es = out['ed_frame'], out['es_frame']
        lv = out['labels'] == 1
        edv = disk_volume_ml(lv[ed], out['spacing'])
        esv = disk_volume_ml(lv[es], out['spacing'])
        ef = (edv - esv) / edv * 100.0
        assert abs(ef - out['ef']) < 3.0, (ef, out['ef'])
        assert edv == pytest.approx(out['edv'], rel=0.06)
        assert esv == pytest.approx(out['esv'], rel=0.06)
        assert out['ef'] == pytest.approx((out['edv'] - out['esv']) / out['edv'] * 100)
        assert 15.0 <= out['ef'] <= 76.0 and 20.0 <= out['cycle_ef'] <= 75.0


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


def test_sector_and_spacing(medium):
    for out in medium:
        row_mm, col_mm = out['spacing']
        assert 100 / 128 <= row_mm <= 160 / 120 and 0.9 * row_mm <= col_mm <= 1.2 * row_mm
        sec = out['sector']
        assert 100 <= sec['radius_mm'] <= 160
        ar, ac = sec['apex']
        rr, cc = np.mgrid[:128, :128]
        y, x = (rr - ar) * row_mm, (cc - ac) * col_mm
        inside = (np.hypot(x, y) <= sec['radius_mm']) & (
            np.degrees(np.abs(np.arctan2(x, y))) <= sec['half_angle_deg'])
        video = out['video']
        assert np.all(video[:, ~inside] == 0)
        assert (video[:, inside] > 0).mean() > 0.9
        assert np.all(out['labels'][:, ~inside] == 0)
        # fan shape: narrow at the top, wide further down
        assert inside[5].sum() < inside[60].sum() / 3


def tissue_speckle(out):
    """Frames 0 and 1 high-passed (speckle, not anatomy) and a mask of tissue in both."""
    v, lab = out['video'][:2].astype(np.float32), out['labels']
    m = (v[0] > 0) & (v[1] > 0) & (lab[0] == 0) & (lab[1] == 0)
    m = cv2.erode(m.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    return v, [f - cv2.GaussianBlur(f, (0, 0), 4) for f in v], m


def test_speckle_statistics(medium):
    for out in medium[:2]:
        v, hp, m = tissue_speckle(out)
        assert v[0][m].std() > 15                             # not a flat image
        h1 = m[:, :-1] & m[:, 1:]
        h6 = m[:, :-6] & m[:, 6:]
        v1 = m[:-1] & m[1:]
        lat1 = corr(hp[0][:, :-1][h1], hp[0][:, 1:][h1])
        lat6 = corr(hp[0][:, :-6][h6], hp[0][:, 6:][h6])
        ax1 = corr(hp[0][:-1][v1], hp[0][1:][v1])
        assert lat1 > 0.4 and abs(lat6) < 0.25                # grains a few pixels wide
        assert lat1 > ax1                                     # PSF wider across the beam
        temporal = corr(hp[0][m], hp[1][m])
        assert 0.15 < temporal < 0.9                          # partly correlated in time


def test_speckle_memory_knob():
    def temporal(mem):
        gen = SyntheticEchoGenerator(96, knobs=dict(speckle_memory=mem), jitter=False)
        _, hp, m = tissue_speckle(gen.generate(2, num_frames=24))
        return corr(hp[0][m], hp[1][m])

    assert temporal(1.0) > temporal(0.0) + 0.4


def test_long_video():
    gen = SyntheticEchoGenerator(64)
    out = gen.generate_long(9, num_frames=100, frames_per_cycle=25)
    vol, labels = np.asarray(out['lv_volumes']), out['labels']
    assert out['video'].shape == labels.shape == (100, 64, 64) and vol.shape == (100,)
    ed, es = out['ed_frames'], out['es_frames']
    assert 3 <= len(ed) <= 5 and 3 <= len(es) <= 5
    assert np.all(np.abs(np.diff(ed) - 25) <= 4)              # about one beat apart
    for f in ed:
        assert vol[f] == vol[max(0, f - 6):f + 7].max()
    for f in es:
        assert vol[f] == vol[max(0, f - 6):f + 7].min()
    area = (labels == 1).sum((1, 2))
    assert corr(area.astype(float), vol) > 0.97
    # the same seed draws the same heart in both APIs
    assert gen.plan_long(9, 10).heart['L_ed'] == gen.plan(9).heart['L_ed']


def test_speed_guard():
    gen = SyntheticEchoGenerator(128)
    plan = gen.plan_long(1, 10)
    gen.render(plan)
    t0 = time.perf_counter()
    gen.render(plan)
    # the target is well under 0.1 s (tools/analysis/benchmark_synthetic.py); this only
    # guards against an order-of-magnitude regression on a busy machine
    assert time.perf_counter() - t0 < 1.0
