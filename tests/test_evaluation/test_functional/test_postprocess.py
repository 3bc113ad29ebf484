"""LV mask post-processing: one component, no holes, temporal majority, only the LV label."""
import numpy as np
import pytest

from echoseg.evaluation.functional.postprocess import (LVPostProcessing, count_components,
                                                       fill_holes, largest_component,
                                                       postprocess_lv, temporal_majority)


def _disc(h, w, cy, cx, r):
    yy, xx = np.mgrid[:h, :w]
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r


def test_second_blob_is_removed_and_only_the_lv_kept():
    lv = _disc(64, 64, 24, 30, 12)                  # the ventricle
    atrium = _disc(64, 64, 52, 30, 6) & ~lv         # a smaller, separate blob below
    assert not (lv & atrium).any()
    masks = np.zeros((1, 64, 64), np.uint8)
    masks[0][lv | atrium] = 1
    out = postprocess_lv(masks)
    assert np.array_equal(out[0] == 1, lv)          # exactly the ventricle, pixel for pixel
    assert count_components(masks[0] == 1) == 2 and count_components(out[0] == 1) == 1
    # without post-processing the atrium would stay: the step is what removes it
    assert np.array_equal(LVPostProcessing(False, False)(masks), masks)


def test_holes_filled_and_other_labels_untouched():
    lv = _disc(48, 48, 24, 24, 14)
    hole = _disc(48, 48, 24, 24, 4)
    masks = np.zeros((1, 48, 48), np.uint8)
    masks[0][~_disc(48, 48, 24, 24, 18)] = 2        # "myocardium" label elsewhere
    masks[0][lv & ~hole] = 1
    masks[0][5:8, 5:8] = 1                          # a speck of LV in the label-2 area
    out = postprocess_lv(masks)[0]
    assert np.array_equal(out == 1, lv)             # hole filled, speck removed
    assert out[5:8, 5:8].max() == 0                 # the speck becomes background
    assert np.array_equal(out == 2, (masks[0] == 2))  # label 2 as it was


def test_diagonal_neighbours_are_one_component_and_ties_keep_both():
    m = np.zeros((6, 6), bool)
    m[1, 1] = m[2, 2] = True                        # 8-connected
    assert count_components(m) == 1
    two = np.zeros((10, 20), bool)
    two[2:5, 2:5] = True
    two[2:5, 14:17] = True                          # equal sizes
    assert np.array_equal(largest_component(two), two)
    assert np.array_equal(largest_component(two[:, ::-1]), two[:, ::-1])
    assert count_components(two, min_fraction=0.5) == 2
    speck = two.copy()
    speck[8, 8] = True
    assert count_components(speck, min_fraction=0.2) == 2 and count_components(speck) == 3


def test_fill_holes_keeps_openings_to_the_border():
    ring = _disc(30, 30, 15, 15, 10) & ~_disc(30, 30, 15, 15, 5)
    assert np.array_equal(fill_holes(ring), _disc(30, 30, 15, 15, 10))
    u_shape = np.zeros((10, 10), bool)
    u_shape[2:9, 2] = u_shape[2:9, 7] = u_shape[8, 2:8] = True  # open at the top
    assert np.array_equal(fill_holes(u_shape), u_shape)


def test_temporal_majority_matches_a_loop():
    rng = np.random.default_rng(0)
    stack = rng.random((9, 5, 7)) < 0.5
    for window in (1, 3, 5):
        out = temporal_majority(stack, window)
        half = window // 2
        for t in range(9):
            lo, hi = max(0, t - half), min(9, t + half + 1)
            votes = stack[lo:hi].sum(axis=0)
            n = hi - lo
            expect = np.where(2 * votes == n, stack[t], 2 * votes > n)
            assert np.array_equal(out[t], expect), (window, t)
    flicker = np.zeros((5, 4, 4), bool)
    flicker[[0, 1, 3, 4]] = True                    # frame 2 drops out
    assert temporal_majority(flicker, 3)[2].all()
    with pytest.raises(ValueError, match='odd'):
        temporal_majority(stack, 4)


def test_post_processing_commutes_with_a_mirror():
    rng = np.random.default_rng(3)
    masks = (rng.random((4, 20, 24)) < 0.55).astype(np.uint8)
    post = LVPostProcessing(temporal_window=3)
    assert np.array_equal(post(masks[:, :, ::-1]), post(masks)[:, :, ::-1])


def test_build_and_errors():
    assert LVPostProcessing.build(None) is None and LVPostProcessing.build(False) is None
    assert LVPostProcessing.build(True) == LVPostProcessing()
    assert LVPostProcessing.build(dict(temporal_window=5)).temporal_window == 5
    with pytest.raises(ValueError, match='unknown setting'):
        LVPostProcessing.build(dict(largest=True))
    with pytest.raises(ValueError, match='temporal_window'):
        LVPostProcessing(temporal_window=2)
    with pytest.raises(ValueError, match=r'\(N, H, W\)'):
        LVPostProcessing()(np.zeros((4, 4)))
