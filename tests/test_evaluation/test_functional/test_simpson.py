import csv
import os.path as osp

import cv2
import numpy as np
import pytest

from echoseg.evaluation.functional import (biplane_volume, ejection_fraction,
                                           lv_disk_geometry, simpson_volume,
                                           volume_from_disks)


def lv_ellipse(a_mm, b_mm, spacing, tilt=0.0, cut_mm=None):
    """An apical-view LV: ellipse with semi-axes a (long, vertical) and b in mm, apex up,
    optionally tilted by ``tilt`` radians and truncated ``cut_mm`` below its centre by a
    straight base. Returns the mask and the centre (row, col) in pixels."""
    sr, sc = spacing
    h, w = int(2.4 * a_mm / sr) + 8, int(2.4 * a_mm / sc) + 8
    r, c = np.mgrid[0:h, 0:w]
    x, y = c * sc - w * sc / 2, r * sr - h * sr / 2
    u = np.cos(tilt) * x + np.sin(tilt) * y
    v = -np.sin(tilt) * x + np.cos(tilt) * y  # along the long axis, positive towards base
    mask = (u / b_mm)**2 + (v / a_mm)**2 <= 1
    if cut_mm is not None:
        mask &= v <= cut_mm
    return mask.astype(np.uint8)


def truncated_ellipsoid(a, b, cut):
    """Volume of the ellipsoid of revolution (semi-axes a, b, b) from its apex to a plane
    ``cut`` beyond its centre: integral of pi b^2 (1 - z^2/a^2) dz over [-a, cut]."""
    prim = lambda z: np.pi * b**2 * (z - z**3 / (3 * a**2))  # noqa: E731
    return prim(cut) - prim(-a)


@pytest.mark.parametrize('spacing,tilt', [((0.25, 0.25), 0.0), ((0.3, 0.2), 0.0),
                                          ((0.25, 0.25), 0.35), ((0.2, 0.3), -0.25)])
def test_single_plane_ellipsoid(spacing, tilt):
    a, b = 30.0, 12.0
    v = simpson_volume(lv_ellipse(a, b, spacing, tilt), spacing)
    expected = 4 / 3 * np.pi * a * b * b / 1000  # ml
    assert v == pytest.approx(expected, rel=0.02)


@pytest.mark.parametrize('cut,tilt', [(0.0, 0.0), (10.0, 0.0), (5.0, 0.3), (0.0, -0.4)])
def test_flat_base_truncated_ellipsoid(cut, tilt):
    a, b, spacing = 30.0, 12.0, (0.25, 0.25)
    mask = lv_ellipse(a, b, spacing, tilt, cut_mm=cut)
    assert simpson_volume(mask, spacing) == pytest.approx(
        truncated_ellipsoid(a, b, cut) / 1000, rel=0.02)
    # the base points are the corners of the cut, which lie b * sqrt(1 - cut^2/a^2) from
    # the axis on either side
    geo = lv_disk_geometry(mask, spacing)
    half = b * np.sqrt(1 - cut**2 / a**2)
    base_mm = geo.base_points * np.array([spacing[1], spacing[0]])
    assert np.hypot(*(base_mm[1] - base_mm[0])) == pytest.approx(2 * half, abs=0.75)
    assert geo.length == pytest.approx(a + cut, abs=0.75)


def test_biplane_ellipsoid():
    a, b, c, spacing = 30.0, 12.0, 9.0, (0.25, 0.25)
    v = biplane_volume(lv_ellipse(a, b, spacing), lv_ellipse(a, c, spacing), spacing, spacing)
    assert v == pytest.approx(4 / 3 * np.pi * a * b * c / 1000, rel=0.02)
    # with two equal views biplane equals single plane
    m = lv_ellipse(a, b, spacing)
    assert biplane_volume(m, m, spacing, spacing) == pytest.approx(simpson_volume(m, spacing))


def test_ejection_fraction_of_two_ellipses():
    spacing = (0.25, 0.25)
    edv = simpson_volume(lv_ellipse(32.0, 14.0, spacing), spacing)
    esv = simpson_volume(lv_ellipse(27.0, 10.0, spacing), spacing)
    expected = (1 - (27.0 * 10.0**2) / (32.0 * 14.0**2)) * 100
    assert ejection_fraction(edv, esv) == pytest.approx(expected, abs=1.5)
    assert ejection_fraction(100.0, 40.0) == pytest.approx(60.0)
    assert np.isnan(ejection_fraction(0.0, 0.0))
    assert np.isnan(ejection_fraction(float('nan'), 3.0))


def test_units_and_empty():
    m = lv_ellipse(20.0, 8.0, (1.0, 1.0))
    px3 = simpson_volume(m)  # no spacing: cubic pixels
    assert simpson_volume(m, (1.0, 1.0)) == pytest.approx(px3 / 1000)
    assert simpson_volume(m, (0.5, 0.5)) == pytest.approx(px3 * 0.125 / 1000)
    assert simpson_volume(np.zeros((20, 20), np.uint8), (0.3, 0.3)) == 0.0
    assert lv_disk_geometry(np.zeros((5, 5))).empty
    single = np.zeros((9, 9), np.uint8)
    single[4, 4] = 1
    assert np.isfinite(simpson_volume(single))
    assert volume_from_disks(np.full(20, 2.0), 10.0) == pytest.approx(np.pi * 10.0)


def test_small_blobs_are_dropped():
    spacing = (0.25, 0.25)
    m = lv_ellipse(25.0, 10.0, spacing)
    noisy = m.copy()
    noisy[2:5, 2:5] = 1  # a speck far from the LV
    assert simpson_volume(noisy, spacing) == pytest.approx(simpson_volume(m, spacing))


def read_echonet_tracings(root):
    tracings = {}
    with open(osp.join(root, 'VolumeTracings.csv')) as f:
        for row in csv.DictReader(f):
            video = osp.splitext(row['FileName'])[0]
            frame = tracings.setdefault(video, {}).setdefault(int(row['Frame']), [])
            frame.append([float(row[k]) for k in ('X1', 'Y1', 'X2', 'Y2')])
    with open(osp.join(root, 'FileList.csv')) as f:
        ef = {row['FileName']: float(row['EF']) for row in csv.DictReader(f)}
    return tracings, ef


def test_echonet_tracings_ef(echodata):
    """EF from Simpson on the rasterised EchoNet tracings vs the dataset's EF."""
    root = osp.join(echodata, 'echonet_sample')
    if not osp.isdir(root):
        pytest.skip(f'{root} not found')
    tracings, reference = read_echonet_tracings(root)
    errors = []
    for video, frames in tracings.items():
        volumes = []
        for rows in frames.values():
            rows = np.asarray(rows)
            polygon = np.concatenate([rows[1:, :2], rows[1:, 2:][::-1]])
            mask = np.zeros((112, 112), np.uint8)
            cv2.fillPoly(mask, [np.round(polygon).astype(np.int32)], 1)
            volumes.append(simpson_volume(mask))
        ef = ejection_fraction(max(volumes), min(volumes))
        errors.append(ef - reference[video])
        print(f'{video}: EF {ef:.1f} vs dataset {reference[video]:.1f}')
    errors = np.abs(errors)
    assert len(errors) >= 3
    assert errors.mean() < 2.5 and errors.max() < 4.0


def test_invariant_to_resolution_and_mirroring():
    spacing = (0.4, 0.4)
    m = lv_ellipse(30.0, 13.0, spacing, tilt=0.2, cut_mm=8.0)
    v = simpson_volume(m, spacing)
    fine = np.kron(m, np.ones((2, 2), np.uint8))  # same region, half the pixel size
    assert simpson_volume(fine, (0.2, 0.2)) == pytest.approx(v, rel=0.01)
    assert simpson_volume(np.fliplr(m), spacing) == pytest.approx(v, rel=0.01)
