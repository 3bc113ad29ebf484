"""Streaming inference: file frames read one at a time, step-wise == windowed, the per-video
memory of temporal heads across windows, frame_step, and bounded per-video state."""
import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from torch import nn

from echoseg.apis import VideoPredictor
from echoseg.io import read_video, write_video
from echoseg.models.data_preprocessor import EchoDataPreprocessor
from echoseg.registry import MODELS
from echoseg.testing import tiny_segmentor_cfg


def _build(**overrides):
    init_default_scope('echoseg')
    torch.manual_seed(0)
    model = MODELS.build(tiny_segmentor_cfg(**overrides))
    model.eval()
    return model


def _causal_head_model():
    return _build(decode_head=dict(
        type='CausalTemporalHead', in_channels=[16, 64], in_index=[1, 3], channels=8,
        kernel_size=3, num_classes=2))


def _tsf_model(mode):
    return _build(decode_head=dict(
        type='TSFHead', in_channels=64, in_index=3, channels=16, num_heads=2, num_queries=2,
        num_classes=2, reference_mode=mode, memory_size=2))


def _video(n, h=32, w=32, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w]
    frames = []
    for i in range(n):
        r = 6 + 3 * np.sin(2 * np.pi * i / 17)
        disc = (yy - h / 2) ** 2 + (xx - w / 2) ** 2 <= r * r
        frames.append(40 + 150 * disc + rng.normal(0, 12, (h, w)))
    return np.clip(frames, 0, 255).astype(np.uint8)


class FrameRecorder(nn.Module):
    """Per-frame model: p(fg) = intensity / 255; records the frames (by intensity) of
    every window it is called on."""

    is_per_frame = True

    def __init__(self):
        super().__init__()
        self.data_preprocessor = EchoDataPreprocessor(mean=0.0, std=1.0, in_channels=1)
        self.calls = []

    def predict_probabilities(self, inputs):
        self.calls.append(inputs[0, :, 0, 0, 0].round().long().tolist())
        p = (inputs[:, :, :1] / 255.0).clamp(0, 1)
        return torch.cat([1 - p, p], dim=2)


def test_predict_on_a_file_streams_and_equals_the_array_result(tmp_path):
    model = _build()
    video = _video(23)
    path = write_video(tmp_path / 'v.nii.gz', video, spacing=(0.5, 0.5))
    from_file = VideoPredictor(model, num_frames=5).predict(path)
    from_array = VideoPredictor(model, num_frames=5).predict(read_video(path),
                                                             spacing=(0.5, 0.5))
    np.testing.assert_array_equal(from_file.masks, from_array.masks)
    assert from_file.spacing == pytest.approx((0.5, 0.5))
    assert from_file.name == 'v'


def test_stepwise_and_windowed_agree_for_a_per_frame_model():
    model = _build()
    assert model.is_per_frame and model.init_video_memory() is None
    video = _video(29)
    windowed = VideoPredictor(model, num_frames=6, stride=3, keep_probs=True).predict(video)
    pred = VideoPredictor(model, num_frames=6, keep_probs=True)
    assert pred.stride == 6  # a per-frame model: windows need not overlap
    state = pred.start(dict(size=video.shape[1:]))
    got = [pred.step(state, f) for f in video]
    result = pred.finish(state)
    np.testing.assert_array_equal(result.masks, windowed.masks)
    np.testing.assert_allclose(result.probs, windowed.probs, atol=1e-5)
    assert sum(len(g) for g in got) <= len(video)


def test_causal_head_streamed_equals_one_pass_over_the_whole_video():
    model = _causal_head_model()
    assert not model.is_per_frame and model.init_video_memory() is not None
    video = _video(27)
    with torch.no_grad():  # make the temporal mixing matter (a fresh head starts at 0)
        model.decode_head.temporal_weight.normal_(0, 3.0)
    whole = VideoPredictor(model, num_frames=27, keep_probs=True).predict(video)
    pred = VideoPredictor(model, num_frames=4, keep_probs=True)
    assert pred.stride == 4 and pred.uses_memory
    state = pred.start(dict(size=video.shape[1:]))
    for i in range(0, 27, 5):  # chunks that do not line up with the windows
        pred.step(state, video[i:i + 5])
    streamed = pred.finish(state)
    streamed_error = np.abs(streamed.probs - whole.probs).max()
    assert streamed_error < 1e-5
    assert [w[0] for w in streamed.windows] == list(range(0, 27, 4))
    # without the memory every window restarts: the result differs
    restarted = VideoPredictor(model, num_frames=4, keep_probs=True,
                               video_memory=False).predict(video)
    assert np.abs(restarted.probs - whole.probs).max() > 100 * max(streamed_error, 1e-7)


@pytest.mark.parametrize('mode', ['causal', 'two_pass'])
def test_tsf_memory_reaches_frame_0_at_frame_500(mode):
    model = _tsf_model(mode)
    video = _video(510, h=16, w=16)
    pred = VideoPredictor(model, num_frames=10, keep_probs=True)
    assert pred.uses_memory and pred.stride == 10
    state = pred.start(dict(size=video.shape[1:]))
    refs_at_500 = None
    for i in range(0, 510, 10):
        pred.step(state, video[i:i + 10])
        refs = next(iter(state.memory.references.values()))
        if 500 in refs:
            refs_at_500 = refs[500]
    pred.finish(state)
    assert refs_at_500 is not None and 0 in refs_at_500
    if mode == 'causal':
        assert refs_at_500 == [0, 499]


@pytest.mark.parametrize('mode', ['causal', 'two_pass'])
def test_tsf_memory_of_frame_0_changes_later_windows(mode):
    model = _tsf_model(mode)
    video = _video(40, h=16, w=16)
    changed = video.copy()
    changed[0] = 255 - changed[0]
    probs = [VideoPredictor(model, num_frames=10, keep_probs=True, video_memory=memory)
             .predict(v).probs[35] for memory in (True, False) for v in (video, changed)]
    # frame 35 lies in the 4th window: only the memory can carry frame 0 there
    assert np.abs(probs[0] - probs[1]).max() > 1e-6
    np.testing.assert_allclose(probs[2], probs[3], atol=1e-6)


def test_per_video_state_stays_bounded_on_a_long_video():
    model = _tsf_model('causal')
    pred = VideoPredictor(model, num_frames=8)
    video = _video(400, h=16, w=16)
    state = pred.start(dict(size=video.shape[1:]))
    longest = 0
    for i in range(0, 400, 3):
        pred.step(state, video[i:i + 3])
        acc = state.acc
        longest = max(longest, len(state.buffer), 0 if acc is None else acc.shape[0])
        bank = state.memory.get(type(model.decode_head).MEMORY_CAUSAL) or {}
        assert len(bank) <= model.decode_head.memory_size
        if i >= 8:
            assert 0 in bank
    assert longest <= 8 + 3
    assert pred.finish(state).num_frames == 400


def test_frame_step_runs_interleaved_windows_and_predicts_every_frame():
    model = FrameRecorder()
    n = 23
    video = np.repeat(np.arange(n, dtype=np.uint8)[:, None, None] * 10, 4, 1).repeat(4, 2)
    pred = VideoPredictor(model, num_frames=4, frame_step=3, keep_probs=True)
    state = pred.start(dict(size=(4, 4)))
    returned = [pred.step(state, video[i:i + 2]) for i in range(0, n, 2)]
    result = pred.finish(state)
    assert all(np.all(np.diff(c) == 30) for c in model.calls)  # every 3rd frame
    assert sorted({f // 10 for c in model.calls for f in c}) == list(range(n))
    np.testing.assert_allclose(result.probs[:, 1, 0, 0], video[:, 0, 0] / 255.0, atol=1e-6)
    got = np.concatenate([r for r in returned if len(r)])
    np.testing.assert_array_equal(got, result.masks[:len(got)])  # in order, final
    assert max(e for _, e in result.windows) == n
    with pytest.raises(ValueError, match='frame_step'):
        VideoPredictor(model, num_frames=4, frame_step=0)


@pytest.mark.parametrize('frame_step', [1, 2])
def test_two_videos_open_at_once_on_one_predictor_keep_their_own_state(frame_step):
    """Each video's memory and windows live in its own VideoState: two videos fed in
    alternation give what each gives alone."""
    model = _causal_head_model()
    with torch.no_grad():  # make the temporal memory matter
        model.decode_head.temporal_weight.normal_(0, 3.0)
    a, b = _video(19, seed=1), 255 - _video(23, seed=2)
    pred = VideoPredictor(model, num_frames=4, frame_step=frame_step, keep_probs=True)
    alone = [pred.predict(v) for v in (a, b)]
    sa, sb = pred.start(dict(size=a.shape[1:]), name='a'), pred.start(name='b')
    for i in range(0, 23, 3):
        pred.step(sb, b[i:i + 3])
        if i < 19:
            pred.step(sa, a[i:i + 3])
    assert (sa.num_seen, sb.num_seen) == (19, 23)
    together = [pred.finish(sa), pred.finish(sb)]
    for one, both in zip(alone, together):
        np.testing.assert_array_equal(one.masks, both.masks)
        np.testing.assert_allclose(one.probs, both.probs, atol=1e-6)
        assert one.windows == both.windows
    assert together[0].name == 'a' and sa.finished and sb.finished
    # the memory matters here: b's probabilities depend on its earlier frames
    restarted = VideoPredictor(model, num_frames=4, frame_step=frame_step, keep_probs=True,
                               video_memory=False).predict(b)
    assert np.abs(restarted.probs - alone[1].probs).max() > 1e-4


def test_a_finished_or_foreign_state_is_refused():
    pred = VideoPredictor(FrameRecorder(), num_frames=4)
    state = pred.start()
    pred.step(state, np.zeros((5, 4, 4), np.uint8))
    assert pred.finish(state).num_frames == 5
    with pytest.raises(RuntimeError, match='finished.*start'):
        pred.step(state, np.zeros((1, 4, 4), np.uint8))
    with pytest.raises(RuntimeError, match='finished'):
        pred.finish(state)
    with pytest.raises(TypeError, match='VideoState'):   # the old step(frames) call
        pred.step(np.zeros((1, 4, 4), np.uint8), None)


def test_mask_store_preallocates_and_survives_a_wrong_frame_count():
    from echoseg.apis.inference import _MaskStore
    chunks = [np.full((3, 2, 2), i, np.uint8) for i in range(3)]
    exact = _MaskStore(9)
    for c in chunks:
        exact.append(c)
    assert exact.buf is not None and not exact.chunks  # one array, no join at the end
    np.testing.assert_array_equal(exact.array((2, 2)), np.concatenate(chunks))
    short = _MaskStore(4)  # the header announced fewer frames than came
    for c in chunks:
        short.append(c)
    np.testing.assert_array_equal(short.array((2, 2)), np.concatenate(chunks))
    assert _MaskStore().array((2, 2)).shape == (0, 2, 2)


@pytest.mark.parametrize('frame_step', [1, 3])
def test_compressed_masks_equal_the_array_result(tmp_path, frame_step):
    """compress_masks (what tools/infer.py uses) changes how the masks are held, not
    what they are: same masks, curves, beats, and the same mask file."""
    from echoseg.apis import CompressedMasks
    from echoseg.io import read_mask
    model = FrameRecorder()   # the beating disc is the foreground
    path = write_video(tmp_path / 'v.avi', _video(41), fps=50.0)
    kwargs = dict(num_frames=5, frame_step=frame_step, postprocess=dict(temporal_window=3))
    plain = VideoPredictor(model, **kwargs).predict(path)
    packed = VideoPredictor(model, compress_masks=True, **kwargs).predict(path)
    assert isinstance(packed.masks, CompressedMasks) and packed.masks.shape == (41, 32, 32)
    np.testing.assert_array_equal(np.asarray(packed.masks), plain.masks)
    np.testing.assert_array_equal(packed.areas, plain.areas)
    assert packed.beats == plain.beats and packed.windows == plain.windows
    assert 0 < plain.areas.min() < plain.areas.max() < 32 * 32
    a = read_mask(plain.save_masks(tmp_path / 'a.nii.gz'))
    b = read_mask(packed.save_masks(tmp_path / 'b.nii.gz'))
    np.testing.assert_array_equal(a, b)
