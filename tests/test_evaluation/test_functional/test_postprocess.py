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


def _chamber_video():
    """An LV shrinking from ED (frame 0, radius 14) to ES (frame 5, radius 7) and, from
    frame 2 on, a wrongly lit chamber of radius 9 beside it: at ES the wrong piece is the
    larger one. Returns (label masks (6, 64, 64), LV (6, 64, 64) bool)."""
    radii = [14, 13, 12, 11, 10, 7]
    lv = np.stack([_disc(64, 64, 30, 20, r) for r in radii])
    other = _disc(64, 64, 30, 50, 9)
    masks = lv.astype(np.uint8)
    masks[2:][:, other] = 1
    return masks, lv


def test_overlap_choice_keeps_the_lv_where_the_largest_is_wrong():
    masks, lv = _chamber_video()
    other_size, es_size = _disc(64, 64, 30, 50, 9).sum(), lv[5].sum()
    assert other_size > es_size and lv[4].sum() > other_size   # wrong piece largest at ES
    largest = postprocess_lv(masks) == 1
    overlap = postprocess_lv(masks, component='overlap') == 1
    assert np.array_equal(overlap, lv)                           # every frame the LV
    assert np.array_equal(largest[:5], lv[:5])
    assert not (largest[5] & lv[5]).any()                        # largest: ES Dice 0
    assert np.array_equal(LVPostProcessing(component='overlap')(masks) == 1, overlap)
    # mirrored video, mirrored result; holes are still filled
    assert np.array_equal(postprocess_lv(masks[:, :, ::-1], component='overlap'),
                          postprocess_lv(masks, component='overlap')[:, :, ::-1])
    holed = masks.copy()
    holed[5][_disc(64, 64, 30, 20, 2)] = 0
    assert np.array_equal(postprocess_lv(holed, component='overlap') == 1, lv)
    # other labels are untouched, the wrong piece becomes background
    labelled = masks.copy()
    labelled[:, :4, :4] = 2
    out = postprocess_lv(labelled, component='overlap')
    assert np.array_equal(out == 2, labelled == 2) and np.array_equal(out == 1, lv)


def test_components_by_overlap_seeds_and_fallbacks():
    from echoseg.evaluation.functional.postprocess import components_by_overlap
    masks, lv = _chamber_video()
    stack = masks == 1
    # no frame dominated: the frames of the highest share seed (frame 2 of 5 here)
    two = stack[2:]
    assert all(count_components(frame) == 2 for frame in two)
    chosen = components_by_overlap(two, dominance=1.0)
    assert np.array_equal(chosen, lv[2:])
    # a single frame keeps its largest; empty frames stay empty and no frame is seeded
    # through them: the frame after an empty one keeps its largest
    assert np.array_equal(components_by_overlap(stack[5:]), stack[5:] & ~lv[5:])
    gap = stack.copy()
    gap[4] = False
    out = components_by_overlap(gap)
    assert not out[4].any() and np.array_equal(out[:4], lv[:4])
    assert not (out[5] & lv[5]).any()
    assert not components_by_overlap(np.zeros((3, 8, 8), bool)).any()
    with pytest.raises(ValueError, match=r'\(N, H, W\)'):
        components_by_overlap(np.zeros((8, 8), bool))


def test_component_setting():
    assert LVPostProcessing.build(dict(component='overlap')).component == 'overlap'
    assert LVPostProcessing().to_dict() == dict(largest_component=True, fill_holes=True,
                                                temporal_window=0)
    assert LVPostProcessing(component='overlap').to_dict()['component'] == 'overlap'
    with pytest.raises(ValueError, match='component must be one of'):
        LVPostProcessing(component='biggest')
    # without largest_component the choice plays no part
    masks, _ = _chamber_video()
    assert np.array_equal(postprocess_lv(masks, largest=False, component='overlap'),
                          postprocess_lv(masks, largest=False))
