"""The frame memory of the memory-based pseudo-labelers (CPR, DOC): augmentation matrices,
warping, uint8 encoding in the canonical frame, keys, and the state-dict round trip."""
import math
import types

import numpy as np
import pytest
import torch
from torch import nn

from echoseg.models.pseudo_labelers.frame_memory import (INVALID, MemoryCheckpointMixin,
                                                         clip_affine, decode_probs,
                                                         encode_probs, load_memory_state,
                                                         memory_key, memory_state, warp_maps)
from echoseg.models.utils import ClipContext


def _apply(m, x, y):
    return (m @ np.array([x, y, 1.0]))[:2]


def test_clip_affine_of_flip_rotation_and_scale():
    h, w = 5, 8
    assert clip_affine({}, h, w) is None
    assert clip_affine(dict(flip=False, aug_angle=0.0, aug_scale=1.0), h, w) is None
    flip = clip_affine(dict(flip=True), h, w)
    for x, y in ((0, 0), (3, 2), (7, 4)):
        np.testing.assert_allclose(_apply(flip, x, y), (w - 1 - x, y))
    rot = clip_affine(dict(aug_angle=30.0, aug_scale=1.5), h, w)
    centre = np.array([(w - 1) / 2, (h - 1) / 2])
    np.testing.assert_allclose(_apply(rot, *centre), centre, atol=1e-12)   # fixed
    p = np.array([6.0, 1.0])
    moved = _apply(rot, *p) - centre
    assert np.linalg.norm(moved) == pytest.approx(1.5 * np.linalg.norm(p - centre))
    turn = math.degrees(math.atan2(moved[1], moved[0]) - math.atan2(*(p - centre)[::-1]))
    assert (turn + 360) % 360 == pytest.approx(330.0)       # 30 degrees, image y down
    both = clip_affine(dict(flip=True, aug_angle=30.0, aug_scale=1.5), h, w)
    np.testing.assert_allclose(both, rot @ flip)             # flipped first
    given = clip_affine(dict(warp_matrix=[[1, 0, 2], [0, 1, 0]], flip=True), h, w)
    np.testing.assert_allclose(given, [[1, 0, 2], [0, 1, 0], [0, 0, 1]])   # wins
    assert clip_affine(dict(warp_matrix=np.eye(3)), h, w) is None


def test_warp_maps_by_a_whole_pixel():
    maps = torch.arange(2 * 4 * 6, dtype=torch.float32).view(2, 4, 6)
    shift = np.array([[1.0, 0, 1], [0, 1, 0], [0, 0, 1]])      # out(x, y) = maps(x + 1, y)
    out, inside = warp_maps(maps, shift)
    torch.testing.assert_close(out[:, :, :5], maps[:, :, 1:])
    assert torch.equal(out[:, :, 5], torch.zeros(2, 4))
    assert inside[:, :5].all() and not inside[:, 5].any()


def _probs(k=3, h=8, w=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.softmax(3 * torch.randn(k, h, w, generator=g), dim=0)


def test_encode_is_uint8_foreground_at_the_memory_resolution():
    probs = _probs()
    q = encode_probs(probs, None, 4)
    assert q.dtype == torch.uint8 and q.shape == (2, 4, 4)
    pooled = probs.view(3, 4, 2, 4, 2).mean(dim=(2, 4))           # 2 x 2 area means
    expected = (pooled[1:] * 254).round().to(torch.uint8)
    assert (q.int() - expected.int()).abs().max() <= 1             # rounding at .5 only
    assert (q != INVALID).all()


def test_decode_inverts_encode_at_the_same_size():
    probs = _probs()
    p, ok = decode_probs(encode_probs(probs, None, 8), (8, 8), None, torch.float32, 'cpu')
    assert ok.all() and p.shape == (3, 8, 8)
    torch.testing.assert_close(p.sum(0), torch.ones(8, 8))
    assert (p - probs).abs().max() <= 1.5 / 254


def test_memory_is_stored_in_the_canonical_frame():
    probs = _probs(seed=1)
    flip = clip_affine(dict(flip=True), 8, 8)
    stored = encode_probs(probs, flip, 8)                    # a flipped clip's frame
    mirrored = encode_probs(probs.flip(-1), None, 8)
    assert (stored.int() - mirrored.int()).abs().max() <= 1   # (float rounding at .5)
    back, ok = decode_probs(stored, (8, 8), np.linalg.inv(flip), torch.float32, 'cpu')
    assert ok.all() and (back - probs).abs().max() <= 1.5 / 254
    shift = np.array([[1.0, 0, 1], [0, 1, 0], [0, 0, 1]])   # the last column is unknown
    stored = encode_probs(probs, shift, 8)
    assert (stored[:, :, 7] == INVALID).all() and (stored[:, :, :7] != INVALID).all()
    _, ok = decode_probs(stored, (8, 8), None, torch.float32, 'cpu')
    assert not ok[:, 7].any() and ok[:, :7].all()


def test_memory_key_skips_mixed_frames_and_missing_metainfo():
    def clip(**meta):
        return ClipContext(batch_size=1, num_frames=3, labelled=torch.ones(1, 3),
                           data_samples=[types.SimpleNamespace(metainfo=meta)])
    full = clip(video_id=12, frame_indices=[4, 6, 8], mixed_frames=[False, True, False])
    assert memory_key(full, 0, 0) == ('12', 4) and memory_key(full, 0, 2) == ('12', 8)
    assert memory_key(full, 0, 1) is None
    assert memory_key(clip(video_id='a'), 0, 0) is None
    assert memory_key(ClipContext(batch_size=1, num_frames=3, labelled=torch.ones(1, 3)),
                      0, 0) is None


def _memory():
    g = torch.Generator().manual_seed(0)
    return {(name, idx): torch.randint(0, 256, (2, 4, 4), generator=g, dtype=torch.uint8)
            for name, idx in (('vidé_2', 3), ('a', 0), ('vidé_2', 1))}


def test_memory_state_round_trip():
    memory = _memory()
    values = dict(score={('a', 0): 0.5, ('vidé_2', 1): -1.0})
    state = memory_state(memory, values)
    assert bytes(state['video_names'].tolist()).decode('utf-8') == 'a\0vidé_2'
    assert state['maps'].shape == (3, 2, 4, 4) and state['frame_index'].tolist() == [3, 0, 1]
    assert math.isnan(state['value_score'][0])                   # a key without a value
    back, back_values = load_memory_state(state)
    assert list(back) == list(memory)
    assert all(torch.equal(back[k], memory[k]) for k in memory)
    assert back_values == values
    empty, no_values = load_memory_state(memory_state({}))
    assert empty == {} and no_values == {}


class _Labeler(MemoryCheckpointMixin, nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 1)
        self.memory, self.scores = {}, {}

    def memory_values(self):
        return dict(score=self.scores)

    def restore_memory(self, memory, values):
        self.memory, self.scores = memory, values.get('score', {})


def test_the_memory_travels_in_the_state_dict(tmp_path):
    parent = nn.Module()
    parent.labeler = _Labeler()
    parent.labeler.memory = _memory()
    parent.labeler.scores = {('a', 0): 0.25}
    sd = parent.state_dict()
    assert all(torch.is_tensor(v) for v in sd.values())
    assert {k for k in sd if '.memory.' in k} == {
        'labeler.memory.' + n for n in ('video_names', 'video_index', 'frame_index', 'maps',
                                        'value_score')}
    torch.save(sd, tmp_path / 'ckpt.pth')
    fresh = nn.Module()
    fresh.labeler = _Labeler()
    fresh.load_state_dict(torch.load(tmp_path / 'ckpt.pth', weights_only=True), strict=True)
    assert fresh.labeler.scores == {('a', 0): 0.25}
    assert set(fresh.labeler.memory) == set(_memory())
    assert all(torch.equal(fresh.labeler.memory[k], v) for k, v in _memory().items())
    torch.testing.assert_close(fresh.labeler.conv.weight, parent.labeler.conv.weight)
