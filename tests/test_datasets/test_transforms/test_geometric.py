import cv2
import numpy as np
import pytest

from echoseg.datasets.transforms import (RandomClipFlip, RandomClipRotation, RandomClipScale,
                                         ResizeClip)


def _clip(t=3, h=40, w=60):
    rng = np.random.default_rng(0)
    video = rng.integers(0, 255, (t, h, w)).astype(np.uint8)
    masks = np.zeros((t, h, w), np.uint8)
    masks[:, 10:30, 20:40] = 1
    masks[1] = 255  # an unlabelled frame
    return dict(video=video, masks=masks, labelled=np.array([True, False, True]),
                spacing=(0.3, 0.2))


def test_resize_bilinear_nearest_and_spacing():
    res = ResizeClip(scale=(20, 30), keep_ori_masks=True)(_clip())
    assert res['video'].shape == (3, 20, 30) and res['masks'].shape == (3, 20, 30)
    # spacing grows by the shrink factor of each axis
    assert res['spacing'] == pytest.approx((0.6, 0.4))
    assert res['ori_spacing'] == (0.3, 0.2) and res['ori_shape'] == (40, 60)
    assert res['ori_masks'].shape == (3, 40, 60)
    # nearest neighbour: no new labels, and the box maps to the analytic box
    assert set(np.unique(res['masks'])) <= {0, 1, 255}
    assert res['masks'][0, 5:15, 10:20].all() and res['masks'][0].sum() == 100
    expected = cv2.resize(_clip()['video'][2], (30, 20), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_array_equal(res['video'][2], expected)


def test_flip_moves_every_frame():
    clip = _clip()
    res = RandomClipFlip(prob=1.0)(dict(clip, video=clip['video'].copy()))
    np.testing.assert_array_equal(res['video'], clip['video'][:, :, ::-1])
    assert res['flip'] is True


def test_rotation_one_draw_for_the_whole_clip():
    clip = _clip()
    res = RandomClipRotation(prob=1.0, angle_range=(-30, 30), seed=3)(dict(clip))
    angle = res['aug_angle']
    h, w = clip['video'].shape[1:]
    m = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), angle, 1.0)
    for t in range(3):  # each frame equals its own warp by the single drawn angle
        ref = cv2.warpAffine(clip['video'][t].astype(np.float32), m, (w, h),
                             flags=cv2.INTER_LINEAR)
        np.testing.assert_allclose(res['video'][t], ref, atol=1e-3)
    # outside the field of view: background on labelled frames, ignore on the others
    if abs(angle) > 5:
        assert res['masks'][0, 0, 0] == 0 and res['masks'][1, 0, 0] == 255


def test_scale_updates_spacing():
    res = RandomClipScale(prob=1.0, scale_range=(1.25, 1.25))(_clip())
    assert res['spacing'] == pytest.approx((0.3 / 1.25, 0.2 / 1.25))
    # the box grows by the zoom factor (area x 1.5625, nearest rounding aside)
    assert res['masks'][0].sum() == pytest.approx(400 * 1.5625, rel=0.1)


def test_prob_zero_is_identity_and_bad_prob_rejected():
    clip = _clip()
    res = RandomClipRotation(prob=0.0)(dict(clip))
    np.testing.assert_array_equal(res['video'], clip['video'])
    with pytest.raises(ValueError, match='prob'):
        RandomClipFlip(prob=1.5)


def test_warp_matrix_composes_flip_then_rotation():
    clip = _clip()
    res = RandomClipFlip(prob=1.0)(dict(clip))
    res = RandomClipRotation(prob=1.0, angle_range=(20, 20))(res)
    w_mat = np.asarray(res['warp_matrix'])
    h, w = clip['video'].shape[1:]
    # the recorded matrix alone reproduces the two augmentations from the original frame
    direct = cv2.warpAffine(clip['video'][0].astype(np.float32), w_mat, (w, h),
                            flags=cv2.INTER_LINEAR)
    np.testing.assert_allclose(res['video'][0][5:-5, 5:-5], direct[5:-5, 5:-5], atol=1e-2)
