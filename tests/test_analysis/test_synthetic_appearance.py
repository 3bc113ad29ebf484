"""echoseg.analysis.synthetic_appearance (tools/experiments/fit_synthetic_appearance.py):
its measurements against independent computations, and the whole report on a tiny
EchoNet-layout folder and NIfTI sequence."""
import os.path as osp

import cv2
import numpy as np
import pytest
from scipy import stats

from echoseg.analysis import synthetic_appearance as tool
from echoseg.testing import write_echonet_folder

#: two traced videos in a fan, 48 x 48 (ED after ES in the second)
VIDEOS = [('0XTINY1', 16, 3, 11, 55.0), ('0XTINY2', 14, 9, 2, 40.0)]


def write_folder(root):
    return write_echonet_folder(root, VIDEOS, size=48, fan=True)


def test_wasserstein_and_chi_square():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 120, 5000)
    b = rng.integers(30, 200, 3000)
    assert tool.wasserstein(a, b) == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-9)
    assert tool.wasserstein(a, a + 10) == pytest.approx(10.0)
    assert tool.chi_square(a, a) == 0.0
    assert tool.chi_square(np.full(10, 5), np.full(10, 250)) == pytest.approx(1.0)


def test_autocorrelation_width():
    rng = np.random.default_rng(1)
    white = rng.normal(128, 20, (96, 96)).astype(np.float32)
    mask = np.ones(white.shape, bool)
    assert tool.autocorr_width(white, mask, 0) < 0.8          # independent pixels
    # a 1 x 5 box along the rows correlates columns: lag-k correlation (5 - k) / 5
    streaks = cv2.blur(white, (5, 1))
    lateral, axial = tool.autocorr_width(streaks, mask, 1), tool.autocorr_width(streaks, mask, 0)
    assert axial < 0.8 and 1.5 < lateral < 2.6


def test_sector_and_regions():
    video = np.zeros((4, 80, 80), np.uint8)
    fan = np.zeros((80, 80), np.uint8)
    cv2.fillConvexPoly(fan, np.array([[40, 2], [5, 70], [75, 70]], np.int32), 1)
    video[:, fan > 0] = 90
    video[:, 2:5, 70:74] = 255                                # a marker outside the fan
    sector = tool.sector_mask(video)
    assert (sector & (fan > 0)).sum() / (sector | (fan > 0)).sum() > 0.97
    assert not sector[3, 72]
    lv = np.zeros((80, 80), bool)
    lv[25:55, 32:48] = True
    regions = tool.region_masks(lv, sector)
    assert regions['blood'].sum() < lv.sum() and not (regions['blood'] & ~lv).any()
    assert not (regions['myocardium'] & lv).any() and regions['myocardium'].any()
    assert not regions['myocardium'][57:].any()               # nothing below the base
    def near(r):
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        return cv2.dilate(lv.view(np.uint8), disc) > 0

    assert not (regions['tissue'] & near(8)).any()          # 9 pixels or more from the LV
    assert (regions['tissue'] | near(10) | ~sector).all()
    assert np.array_equal(regions['outside'], ~sector)


def test_report_on_tiny_real_data(tmp_path, capsys):
    import SimpleITK as sitk
    data = str(tmp_path / 'echonet')
    write_folder(data)
    seq = sitk.GetImageFromArray(np.random.default_rng(2).integers(
        0, 200, (2, 64, 80)).astype(np.uint8))
    seq.SetSpacing((0.3, 0.3, 1.0))
    nii = str(tmp_path / 'seq.nii.gz')
    sitk.WriteImage(seq, nii)
    out = tool.main(['--data-root', data, '--synthetic-videos', '2', '--camus', nii,
                     '--other', 'none'])
    text = capsys.readouterr().out
    for region in ('blood', 'myocardium', 'tissue', 'outside', 'CAMUS sector'):
        assert f'| {region} |' in text
    assert 'other: skipped' in text
    rows = {(r[0], r[1]): r[2:] for r in out['rows']}
    assert len(out['rows']) == 4 * 5 + 2
    for region in tool.REGIONS:
        assert all(np.isfinite(rows[(region, 'W1 to real')]))
    w1 = [rows[(r, 'W1 to real')] for r in tool.REGIONS]
    assert out['summary']['w1_new'] == pytest.approx(np.mean([v[2] for v in w1]))
    assert out['summary']['w1_old'] == pytest.approx(np.mean([v[1] for v in w1]))


def test_missing_paths_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='no_such_dir'):
        tool.main(['--data-root', str(tmp_path / 'no_such_dir')])
    data = str(tmp_path / 'echonet')
    write_folder(data)
    with pytest.raises(FileNotFoundError, match='missing.nii.gz'):
        tool.main(['--data-root', data, '--synthetic-videos', '1',
                   '--camus', osp.join(str(tmp_path), 'missing.nii.gz')])
