import numpy as np
import pytest
from scipy.spatial import cKDTree

from echoseg.evaluation.functional import (average_surface_distance, hausdorff_distance,
                                           hd95, surface_metrics)


def physical_disc(shape, centre_mm, radius_mm, spacing):
    """A disc of radius_mm in physical space on an anisotropic pixel grid."""
    r, c = np.mgrid[0:shape[0], 0:shape[1]]
    y, x = r * spacing[0], c * spacing[1]
    return (y - centre_mm[0])**2 + (x - centre_mm[1])**2 <= radius_mm**2


def brute_force(a, b, spacing, q=95):
    """Surface pixels by neighbour comparison, distances by a k-d tree."""
    def surface(m):
        p = np.pad(m, 1)
        inner = p[:-2, 1:-1] & p[2:, 1:-1] & p[1:-1, :-2] & p[1:-1, 2:]
        return np.argwhere(m & ~inner) * np.asarray(spacing)

    pa, pb = surface(a), surface(b)
    dab = cKDTree(pb).query(pa)[0]
    dba = cKDTree(pa).query(pb)[0]
    return (max(np.percentile(dab, q), np.percentile(dba, q)),
            (dab.sum() + dba.sum()) / (len(dab) + len(dba)))


@pytest.mark.parametrize('spacing', [(1.0, 1.0), (0.3, 0.5)])
def test_concentric_discs(spacing):
    shape = (int(80 / spacing[0]), int(80 / spacing[1]))
    inner = physical_disc(shape, (40, 40), 20.0, spacing)
    outer = physical_disc(shape, (40, 40), 26.0, spacing)
    tol = max(spacing)
    out = surface_metrics(inner, outer, spacing)
    assert out['hd'] == pytest.approx(6.0, abs=tol)
    assert out['asd'] == pytest.approx(6.0, abs=tol)


def test_nested_squares_exact_hausdorff():
    spacing = (0.4, 0.7)
    a = np.zeros((60, 60), bool)
    b = np.zeros_like(a)
    a[20:40, 20:40] = True
    b[15:45, 15:45] = True  # 5 pixels larger on every side
    # farthest surface point: an outer corner, 5 rows and 5 columns from the inner corner
    expected = np.hypot(5 * spacing[0], 5 * spacing[1])
    assert hausdorff_distance(a, b, spacing, percentile=100) == pytest.approx(expected)
    assert hausdorff_distance(b, a, spacing, percentile=100) == pytest.approx(expected)


def test_shifted_square_exact_hausdorff():
    spacing = (0.4, 0.7)
    a = np.zeros((50, 50), bool)
    b = np.zeros_like(a)
    a[10:30, 10:30] = True
    b[10:30, 14:34] = True
    assert hausdorff_distance(a, b, spacing, percentile=100) == pytest.approx(4 * 0.7)


def test_against_brute_force_on_random_shapes():
    from scipy import ndimage
    rng = np.random.default_rng(3)
    spacing = (0.35, 0.6)
    for _ in range(3):
        a = ndimage.gaussian_filter(rng.random((70, 60)), 4) > 0.5
        b = ndimage.gaussian_filter(rng.random((70, 60)), 4) > 0.5
        if not a.any() or not b.any():
            continue
        hd_ref, asd_ref = brute_force(a, b, spacing)
        assert hd95(a, b, spacing) == pytest.approx(hd_ref, rel=1e-9)
        assert average_surface_distance(a, b, spacing) == pytest.approx(asd_ref, rel=1e-9)


def test_identical_and_empty():
    a = np.zeros((30, 40), bool)
    a[5:20, 5:25] = True
    z = np.zeros_like(a)
    assert surface_metrics(a, a) == dict(hd=0.0, asd=0.0)
    assert surface_metrics(z, z) == dict(hd=0.0, asd=0.0)
    assert np.isnan(hd95(a, z)) and np.isnan(average_surface_distance(z, a))
    diag = np.hypot(30 * 0.5, 40 * 0.25)
    assert hd95(z, a, (0.5, 0.25), empty='diagonal') == pytest.approx(diag)
    with pytest.raises(ValueError):
        hd95(a, z, empty='zero')


def test_bad_input():
    with pytest.raises(ValueError, match='shape'):
        hd95(np.ones((4, 4)), np.ones((5, 4)))
    with pytest.raises(ValueError, match='spacing'):
        hd95(np.ones((4, 4)), np.ones((4, 4)), spacing=(1.0, ))
