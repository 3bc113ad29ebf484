import numpy as np
import pytest

from echoseg.datasets.errors import EchoDataError
from echoseg.datasets.transforms import SampleClipFrames, ed_to_es_indices


def test_papers_indexing_forward():
    # floor(first + i * (last - first) / 9) worked by hand for ED=3, ES=21
    assert ed_to_es_indices(3, 21, 10) == [3, 5, 7, 9, 11, 13, 15, 17, 19, 21]
    assert ed_to_es_indices(0, 14, 10) == [0, 1, 3, 4, 6, 7, 9, 10, 12, 14]


def test_es_before_ed_runs_backwards_from_ed():
    idx = ed_to_es_indices(30, 12, 10)
    assert idx[0] == 30 and idx[-1] == 12
    assert all(a >= b for a, b in zip(idx, idx[1:]))


def test_short_span_repeats_frames():
    idx = ed_to_es_indices(5, 8, 10)
    assert idx[0] == 5 and idx[-1] == 8 and set(idx) == {5, 6, 7, 8}


def _results(n=40, ed=25, es=10):
    video = np.arange(n, dtype=np.uint8)[:, None, None] * np.ones((1, 4, 4), np.uint8)
    masks = np.full((n, 4, 4), 255, np.uint8)
    labelled = np.zeros(n, bool)
    for f in (ed, es):
        masks[f] = f % 2
        labelled[f] = True
    return dict(video=video, masks=masks, labelled=labelled, ed_frame=ed, es_frame=es,
                video_id='v')


def test_transform_slices_every_per_frame_key_together():
    out = SampleClipFrames(num_frames=10)(_results())
    assert out['frame_indices'][0] == 25 and out['frame_indices'][-1] == 10
    assert out['video'][:, 0, 0].tolist() == out['frame_indices']
    assert out['labelled'].tolist() == [True] + [False] * 8 + [True]
    assert out['ed_index'] == 0 and out['es_index'] == 9
    assert (out['masks'][1:-1] == 255).all()


def test_all_mode_keeps_every_frame_and_finds_ed_es():
    out = SampleClipFrames(mode='all')(_results(n=12, ed=8, es=3))
    assert out['frame_indices'] == list(range(12))
    assert out['ed_index'] == 8 and out['es_index'] == 3


def test_errors_name_the_video():
    with pytest.raises(EchoDataError, match='v: ED frame 50'):
        SampleClipFrames()(dict(_results(n=40, ed=25, es=10), ed_frame=50))
    with pytest.raises(ValueError, match='unknown mode'):
        SampleClipFrames(mode='random')


@pytest.mark.parametrize('ed,es', [(4, 16), (16, 4)])
def test_all_frames_keeps_every_frame_from_ed_to_es(ed, es):
    res = _results(n=20, ed=ed, es=es)
    out = SampleClipFrames(all_frames=True)(res)
    step = 1 if es > ed else -1
    expected = list(range(ed, es + step, step))             # ED first, both ends included
    assert out['frame_indices'] == expected and len(expected) == abs(es - ed) + 1
    assert out['video'][:, 0, 0].tolist() == expected      # frames carry their index
    assert out['labelled'].tolist() == [i in (ed, es) for i in expected]
    assert (out['ed_index'], out['es_index']) == (0, len(expected) - 1)
    assert out['labelled'][0] and out['labelled'][-1]
    # every frame the clip holds is a different source frame (no repeats)
    assert len(set(out['frame_indices'])) == len(expected)


def test_all_frames_options_are_checked():
    with pytest.raises(ValueError, match="all_frames=True .* needs mode='ed_to_es'"):
        SampleClipFrames(mode='all', all_frames=True)
    with pytest.raises(ValueError, match='num_frames must be an integer >= 2, got None'):
        SampleClipFrames(num_frames=None)
    assert 'all_frames=True' in repr(SampleClipFrames(all_frames=True))


def _floor_grid(ed, es, t, shift):
    """Brute force: the grid's real-valued positions, floored one by one."""
    import math
    sign = 1 if es >= ed else -1
    return [ed + sign * math.floor(i * abs(es - ed) / (t - 1)) for i in range(shift, shift + t)]


@pytest.mark.parametrize('ed,es,shift', [(3, 21, 0), (3, 21, 2), (3, 21, -3), (30, 12, 4),
                                         (30, 12, -2), (5, 8, 3)])
def test_shifted_indices_extend_the_papers_grid(ed, es, shift):
    from echoseg.datasets.transforms.clip_sampling import shifted_indices
    idx = shifted_indices(ed, es, 10, shift)
    assert idx == _floor_grid(ed, es, 10, shift)
    if shift == 0:
        assert idx == ed_to_es_indices(ed, es, 10)
    if 0 <= 9 - shift < 10:
        assert idx[9 - shift] == es                       # ES where the shift puts it
    if 0 <= -shift < 10:
        assert idx[-shift] == ed


def test_shifted_clips_keep_labels_on_their_frames():
    t = SampleClipFrames(num_frames=10, shift_prob=1.0, max_shift=4, seed=0)
    seen = set()
    for _ in range(200):
        res = _results(n=60, ed=20, es=38)
        out = t(res)
        k = out['clip_shift']
        seen.add(k)
        assert k != 0 and -4 <= k <= 4
        idx = out['frame_indices']
        assert idx == _floor_grid(20, 38, 10, k)
        assert out['video'][:, 0, 0].tolist() == idx      # frames move with their index
        assert out['labelled'].tolist() == [i in (20, 38) for i in idx]
        assert (out['masks'][~out['labelled']] == 255).all()
        assert out['ed_index'] == (-k if k < 0 else None)
        assert out['es_index'] == (9 - k if k > 0 else None)
        if out['es_index'] is not None:
            assert idx[out['es_index']] == 38 and out['labelled'][out['es_index']]
    assert seen == {-4, -3, -2, -1, 1, 2, 3, 4}            # every allowed shift is drawn


def test_shifts_that_leave_the_video_are_not_drawn():
    # ES is the last frame: no shift past it fits; ED at 2 allows back to k = -1 only
    t = SampleClipFrames(num_frames=10, shift_prob=1.0, max_shift=5, seed=1)
    ks = {t(_results(n=20, ed=1, es=19))['clip_shift'] for _ in range(50)}
    assert ks == {0}                                   # nothing fits: the papers' clip
    ks = {t(_results(n=21, ed=2, es=19))['clip_shift'] for _ in range(100)}
    assert ks == {-1, 1}


def test_no_shift_draws_nothing_and_keeps_the_papers_clip():
    state = np.random.get_state()
    out = SampleClipFrames(num_frames=10)(_results())
    after = np.random.get_state()
    assert all(np.array_equal(a, b) for a, b in zip(state[1:3], after[1:3]))
    assert out['clip_shift'] == 0 and out['frame_indices'][0] == 25
    assert (out['ed_index'], out['es_index']) == (0, 9)


def test_shift_options_are_checked():
    with pytest.raises(ValueError, match='shift_prob must be in'):
        SampleClipFrames(shift_prob=1.5)
    with pytest.raises(ValueError, match="shift_prob needs mode='ed_to_es'"):
        SampleClipFrames(all_frames=True, shift_prob=0.5)
    with pytest.raises(ValueError, match='max_shift must be an integer'):
        SampleClipFrames(shift_prob=0.5, max_shift=-1)
    assert 'shift_prob=0.5, max_shift=5' in repr(SampleClipFrames(shift_prob=0.5))
