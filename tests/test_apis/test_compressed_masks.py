import zlib

import numpy as np
import pytest

from echoseg.apis import CompressedMasks


def _masks(n=7, h=9, w=11, seed=0):
    return np.random.default_rng(seed).integers(0, 3, (n, h, w)).astype(np.uint8)


def test_reads_back_like_the_array():
    masks = _masks()
    store = CompressedMasks.from_array(masks)
    assert store.shape == masks.shape and len(store) == 7 and store.ndim == 3
    np.testing.assert_array_equal(np.asarray(store), masks)
    np.testing.assert_array_equal(store[3], masks[3])
    np.testing.assert_array_equal(store[-1], masks[-1])
    np.testing.assert_array_equal(store[2:5], masks[2:5])
    np.testing.assert_array_equal(store[::3], masks[::3])
    np.testing.assert_array_equal(store == 1, masks == 1)
    np.testing.assert_array_equal(np.stack(list(store)), masks)
    np.testing.assert_array_equal(np.concatenate(list(store.iter_blocks(3))), masks)
    assert store[0:0].shape == (0, 9, 11)
    # a frame handed out is a copy: writing to it leaves the store unchanged
    frame = store[0]
    frame[:] = 9
    np.testing.assert_array_equal(store[0], masks[0])
    assert store.nbytes == masks.nbytes


def test_each_frame_is_one_zlib_stream_and_raw_frames_move_between_stores():
    masks = _masks()
    store = CompressedMasks.from_array(masks)
    for i in range(len(masks)):
        assert zlib.decompress(store.raw(i)) == masks[i].tobytes()
    other = CompressedMasks(masks.shape[1:])
    for i in reversed(range(len(masks))):
        other.append_raw(store.raw(i))
    np.testing.assert_array_equal(np.asarray(other), masks[::-1])


def test_an_lv_mask_compresses_far_below_its_array():
    yy, xx = np.mgrid[:768, :1024]
    disc = ((yy - 384) ** 2 + (xx - 512) ** 2 < 150 ** 2).astype(np.uint8)
    store = CompressedMasks.from_array(np.stack([disc] * 4))
    assert store.compressed_nbytes * 50 < store.nbytes


def test_bad_frames_are_refused():
    store = CompressedMasks((4, 4))
    with pytest.raises(ValueError, match='frame shape'):
        store.append(np.zeros((2, 4, 5), np.uint8))
    with pytest.raises(ValueError, match='0..255'):
        store.append(np.full((4, 4), 300, np.int32))
    with pytest.raises(ValueError, match='frame_shape'):
        CompressedMasks((4, 4, 1))
    with pytest.raises(TypeError, match='np.asarray'):
        store[[0]]
    store.append(np.ones((4, 4), np.int64))  # in range: cast to uint8
    assert store[0].dtype == np.uint8 and store[0].sum() == 16
