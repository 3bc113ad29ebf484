"""Mask overlays (echoseg.visualization.overlay): the blend of each region, the contours,
gray conversion and the captioned row of a clip."""
import cv2
import numpy as np
import pytest

from echoseg.visualization.overlay import (BOTH_COLOUR, GT_COLOUR, PRED_COLOUR,
                                           clip_overlay_grid, overlay_masks, to_uint8_gray)


def test_to_uint8_gray_keeps_0_255_and_stretches_other_ranges():
    f = np.array([[0.0, 12.7], [200.2, 255.0]])
    assert to_uint8_gray(f).tolist() == [[0, 12], [200, 255]]
    g = np.array([[-10.0, 1.0], [11.0, 290.0]])      # stretched to 0, 9.35, 17.85, 255
    assert to_uint8_gray(g).tolist() == [[0, 9], [17, 255]]
    assert to_uint8_gray(np.full((2, 2), 1000.0)).max() == 0     # flat: no division by 0


def _squares(h=20, w=24):
    pred = np.zeros((h, w), np.uint8)
    gt = np.zeros((h, w), np.uint8)
    pred[3:13, 3:13] = 1
    gt[7:17, 9:19] = 1
    return pred, gt


def test_regions_are_blended_and_outlined():
    h, w, alpha, gray = 20, 24, 0.45, 100
    frame = np.full((h, w), gray, np.uint8)
    pred, gt = _squares(h, w)
    img = overlay_masks(frame, pred, gt, alpha=alpha)
    assert img.shape == (h, w, 3) and img.dtype == np.uint8

    def blend(colour):
        return ((1 - alpha) * np.float32(gray) + alpha * np.float32(colour)).astype(np.uint8)
    np.testing.assert_array_equal(img[5, 5], blend(PRED_COLOUR))      # prediction only
    np.testing.assert_array_equal(img[10, 10], blend(BOTH_COLOUR))    # overlap
    np.testing.assert_array_equal(img[15, 15], blend(GT_COLOUR))      # reference only
    np.testing.assert_array_equal(img[0, 23], [gray] * 3)             # neither
    # contours: the outer ring of each mask in its own colour (the reference's drawn
    # first, the prediction's over it)
    np.testing.assert_array_equal(img[3, 8], PRED_COLOUR)
    np.testing.assert_array_equal(img[16, 14], GT_COLOUR)
    inner = cv2.erode(pred, np.ones((3, 3), np.uint8)).astype(bool)
    outline = np.all(img == np.array(PRED_COLOUR, np.uint8), axis=-1)
    np.testing.assert_array_equal(outline, pred.astype(bool) & ~inner)
    assert outline.sum() == 36                                        # 10 x 10 square


def test_labels_and_missing_masks():
    frame = np.full((20, 24), 60, np.uint8)
    pred, gt = _squares()
    np.testing.assert_array_equal(overlay_masks(frame), np.repeat(frame[..., None], 3, -1))
    two = overlay_masks(frame, pred * 2, None, fg_label=2)
    np.testing.assert_array_equal(two, overlay_masks(frame, pred, None))
    np.testing.assert_array_equal(overlay_masks(frame, pred * 2, gt * 2),
                                  overlay_masks(frame))               # label 1 is absent


@pytest.mark.parametrize('scale', [1, 2])
def test_clip_grid_tiles_separators_and_unlabelled_frames(scale):
    frames = np.stack([np.full((20, 24), v, np.uint8) for v in (40, 80, 120)])
    pred, gt = _squares()
    preds = np.stack([pred] * 3)
    gts = np.stack([gt, np.full_like(gt, 255), gt])     # frame 1 has no reference
    grid = clip_overlay_grid(frames, preds, gts, scale=scale)
    th, tw = 20 * scale, 24 * scale
    assert grid.shape == (th, 3 * tw + 2 * 2, 3)
    for i in range(3):
        tile = grid[:, i * (tw + 2):i * (tw + 2) + tw]
        want = overlay_masks(frames[i], preds[i], None if i == 1 else gts[i])
        np.testing.assert_array_equal(tile, cv2.resize(want, None, fx=scale, fy=scale,
                                                       interpolation=cv2.INTER_NEAREST))
        if i < 2:
            assert np.all(grid[:, i * (tw + 2) + tw:(i + 1) * (tw + 2)] == 255)
    captioned = clip_overlay_grid(frames, preds, None, labels=['ED', '', 'ES'], scale=scale)
    blank = clip_overlay_grid(frames, preds, None, scale=scale)
    assert not np.array_equal(captioned[:, :tw], blank[:, :tw])      # a caption drawn
    np.testing.assert_array_equal(captioned[:, tw + 2:2 * tw + 2], blank[:, tw + 2:2 * tw + 2])
