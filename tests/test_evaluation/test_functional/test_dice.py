import numpy as np
import pytest

from echoseg.evaluation.functional import dice_score, iou_score, per_label_overlap


def disc(shape, centre, radius):
    r, c = np.mgrid[0:shape[0], 0:shape[1]]
    return (r - centre[0])**2 + (c - centre[1])**2 <= radius**2


def lens_area(radius, d):
    """Area of the intersection of two circles of equal radius, centres d apart."""
    return 2 * radius**2 * np.arccos(d / (2 * radius)) - d / 2 * np.sqrt(4 * radius**2 - d**2)


def test_shifted_squares_exact():
    a = np.zeros((100, 100), np.uint8)
    b = np.zeros_like(a)
    a[20:60, 20:60] = 1
    b[20:60, 30:70] = 1  # 40x40 squares overlapping on 40x30
    assert dice_score(a, b) == pytest.approx(2 * 1200 / 3200)
    assert iou_score(a, b) == pytest.approx(1200 / 2000)


def test_discs_match_lens_formula():
    radius, d = 120.0, 90.0
    a = disc((400, 500), (200, 180), radius)
    b = disc((400, 500), (200, 180 + d), radius)
    expected = lens_area(radius, d) / (np.pi * radius**2)
    assert dice_score(a, b) == pytest.approx(expected, abs=5e-3)
    assert iou_score(a, b) == pytest.approx(expected / (2 - expected), abs=5e-3)


def test_identity_and_iou_relation():
    rng = np.random.default_rng(0)
    a = rng.random((40, 50)) > 0.5
    b = rng.random((40, 50)) > 0.4
    assert dice_score(a, a) == 1.0
    dice = dice_score(a, b)
    assert iou_score(a, b) == pytest.approx(dice / (2 - dice))
    assert dice_score(a, b) == dice_score(b, a)


def test_empty_masks():
    z = np.zeros((10, 10), np.uint8)
    one = z.copy()
    one[3, 3] = 1
    assert dice_score(z, z) == 1.0 and iou_score(z, z) == 1.0
    assert dice_score(one, z) == 0.0 and dice_score(z, one) == 0.0
    assert iou_score(z, one) == 0.0


def test_labels_are_selected():
    a = np.zeros((20, 20), np.uint8)
    b = np.zeros_like(a)
    a[:10] = 1
    a[10:] = 2
    b[:15] = 1
    b[15:] = 2
    scores = per_label_overlap(a, b, labels=(1, 2))
    assert scores[1]['dice'] == pytest.approx(2 * 200 / (200 + 300))
    assert scores[2]['dice'] == pytest.approx(2 * 100 / (200 + 100))
    assert scores[2]['iou'] == pytest.approx(100 / 200)
    # without a label, any non-zero value is foreground: everything matches
    assert dice_score(a, b) == 1.0


def test_shape_mismatch_raises():
    with pytest.raises(ValueError, match='shape'):
        dice_score(np.zeros((4, 4)), np.zeros((4, 5)))
