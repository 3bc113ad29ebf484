"""The synthetic echo generator end to end, checked against computations made here, not in
the generator.

Volumes: the LV masks are measured with our own single-plane method of disks (20 disks along
the mask's principal axis, in mm from the reported spacing).
"""
import time

import numpy as np
import pytest

from echoseg.datasets.synthetic import SyntheticEchoGenerator
from synthetic_checks import corr, inside_sector


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
    # the target is well under 0.1 s (tools/benchmarks/benchmark_synthetic.py); this only
    # guards against an order-of-magnitude regression on a busy machine
    assert time.perf_counter() - t0 < 1.0


# Regression guard: what one fixed seed per style draws, as statistics measured once (with
# numpy 2.4 and OpenCV 5.1) and written here; not a hash, since OpenCV and numpy are not
# pinned. Tolerances, measured by swapping parts of the pipeline for variants that another
# OpenCV or numpy could bring:
# - labels (areas in pixels, LV centroid in pixels) come from float32 arithmetic without
#   OpenCV and did not move at all (last-bit changes of the geometry, OpenCV's distance
#   transform with another mask): 2 pixels per area and 0.05 pixel per centroid coordinate
#   leave room for a boundary pixel flipping, while an LV 1 % longer moves the areas by
#   13-14 pixels and the centroid by 0.22 pixel;
# - EF/EDV/ESV are float64 closed forms of the drawn parameters: 1e-5;
# - gray levels (0-255): the precise distance transform moved the means by 0.06 at most,
#   remap coordinates rounded to 1/32 pixel (older OpenCV's fixed-point remap) by 0.02, a
#   float64 blur by 0, last-bit changes of the echogenicity by < 0.001; 0.2 is three times
#   the largest. Small changes to what is drawn move them more: blood +0.5 dB by 0.47
#   (realistic) and 1.6 (classic), tissue +0.5 dB by 1.4, noise +1 dB by 0.5, tissue
#   texture +10 % by 0.3, the per-frame noise drawn from another seed by 1.1.
REFERENCE = dict(
    realistic=dict(
        generator=dict(image_size=112), seed=(0, 0),
        num_frames=24, ed_frame=13, es_frame=22,
        ef=62.295930, edv=89.622629, esv=33.791379,
        lv_area=[919, 1024, 1129, 1197, 1220, 1219, 1222, 1224, 1225, 1226, 1244, 1310, 1390,
                 1424, 1406, 1345, 1248, 1146, 1032, 932, 862, 815, 809, 843],
        myo_area=[549, 733], other_area=[2048, 2025],
        lv_centroid=[[60.93, 64.476], [57.525, 62.588]],
        frame_mean=[45.68, 46.22, 46.36, 46.54, 46.6, 46.27, 46.18, 46.07, 46.32, 46.89, 46.66,
                    46.2, 45.66, 44.65, 44.28, 45.63, 45.66, 45.81, 45.65, 45.43, 45.24, 44.97,
                    44.92, 46.02],
        sector_std=44.65, region_mean=[29.43, 95.13, 14.93, 59.28]),
    classic=dict(
        generator=dict(image_size=96, style='classic'), seed=(0, 1),
        num_frames=24, ed_frame=10, es_frame=18,
        ef=50.836578, edv=30.601343, esv=15.044668,
        lv_area=[933, 935, 936, 937, 932, 935, 936, 954, 993, 1037, 1049, 1028, 987, 927, 869,
                 798, 747, 714, 700, 707, 736, 790, 854, 903],
        myo_area=[514, 699], other_area=[1071, 1148],
        lv_centroid=[[38.533, 54.086], [36.119, 53.151]],
        frame_mean=[101.31, 99.99, 100.26, 100.5, 101.22, 100.93, 100.76, 100.3, 100.69, 99.75,
                    100.93, 100.57, 100.96, 102.6, 103.92, 103.81, 104.87, 105.59, 105.28,
                    105.01, 103.48, 102.31, 102.78, 100.48],
        sector_std=46.18, region_mean=[66.58, 163.83, 67.44, 112.86]),
)


def video_statistics(out):
    """Label areas (LV every frame; myocardium and other chambers at ED and ES), the LV
    centroid at ED and ES, the mean gray of the sector in every frame, its spread, and the
    mean gray of the LV, myocardium, other chambers and the tissue around the heart."""
    video, labels = out['video'].astype(np.float64), out['labels']
    inside = inside_sector(out, video.shape[1:])
    ed, es = out['ed_frame'], out['es_frame']
    lv = labels == 1

    def centroid(mask):
        rows, cols = np.nonzero(mask)
        return [rows.mean(), cols.mean()]

    return dict(
        lv_area=lv.sum((1, 2)), myo_area=[(labels[f] == 2).sum() for f in (ed, es)],
        other_area=[(labels[f] == 3).sum() for f in (ed, es)],
        lv_centroid=[centroid(lv[ed]), centroid(lv[es])],
        frame_mean=[v[inside].mean() for v in video], sector_std=video[:, inside].std(),
        region_mean=[video[labels == i].mean() for i in (1, 2, 3)]
        + [video[(labels == 0) & inside].mean()])


@pytest.mark.parametrize('style', sorted(REFERENCE))
def test_fixed_seed_statistics(style):
    ref = REFERENCE[style]
    out = SyntheticEchoGenerator(**ref['generator']).generate(ref['seed'], num_frames=24)
    for key in ('num_frames', 'ed_frame', 'es_frame'):
        assert out[key] == ref[key], key
    for key in ('ef', 'edv', 'esv'):
        assert out[key] == pytest.approx(ref[key], abs=1e-5), key
    stats = video_statistics(out)
    for key, tol in (('lv_area', 2), ('myo_area', 2), ('other_area', 2), ('lv_centroid', 0.05),
                     ('frame_mean', 0.2), ('sector_std', 0.2), ('region_mean', 0.2)):
        measured, expected = np.asarray(stats[key], float), np.asarray(ref[key], float)
        assert measured.shape == expected.shape, key
        worst = float(np.abs(measured - expected).max())
        assert worst <= tol, f'{style} {key}: off by {worst:.3f} (tolerance {tol})'
