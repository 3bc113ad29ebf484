"""The synthetic echo generator end to end, checked against computations made here, not in
the generator.

Volumes: the LV masks are measured with our own single-plane method of disks (20 disks along
the mask's principal axis, in mm from the reported spacing).
"""
import time

import numpy as np
import pytest

from echoseg.datasets.synthetic import SyntheticEchoGenerator
from synthetic_checks import corr


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


def test_shapes_labels_timing(medium):
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
        assert len(out['lv_volumes']) == n


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


def test_render_is_a_function_of_the_plan():
    gen = SyntheticEchoGenerator(64)
    plan = gen.plan((2, 5))
    video, labels = gen.render(plan)
    again, labels2 = gen.render(plan)                         # the plan is not consumed
    assert np.array_equal(video, again) and np.array_equal(labels, labels2)
    out = gen.generate((2, 5))
    assert np.array_equal(out['video'], video) and np.array_equal(out['labels'], labels)


def test_speed_guard():
    gen = SyntheticEchoGenerator(128)
    plan = gen.plan_long(1, 10)
    gen.render(plan)
    t0 = time.perf_counter()
    gen.render(plan)
    # the target is well under 0.1 s (tools/analysis/benchmark_synthetic.py); this only
    # guards against an order-of-magnitude regression on a busy machine
    assert time.perf_counter() - t0 < 1.0
