"""VideoPredictor windowing, resolution, step-wise API and init_model's safe loading.

The fake models below make the expected output known analytically: the input frame ``i``
has the constant intensity ``i`` (so each call reveals which frames it got), and the
foreground probability is the frame's position in its window (so the average over
overlapping windows can be written down by hand).
"""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from torch import nn

from echoseg.apis import VideoPredictor, VideoResult, clip_settings, init_model
from echoseg.datasets.synthetic import SyntheticEchoGenerator
from echoseg.io import VideoInfo
from echoseg.models.data_preprocessor import EchoDataPreprocessor
from echoseg.testing import tiny_segmentor_cfg
from echoseg.utils.checkpoint import CheckpointError

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


class PositionModel(nn.Module):
    """p(fg) = (window position / (T - 1) + column / (W - 1)) / 2; records the frames seen
    (read back from the constant intensity of each input frame) and the input shapes."""

    def __init__(self):
        super().__init__()
        self.data_preprocessor = EchoDataPreprocessor(mean=0.0, std=1.0, in_channels=1)
        self.calls, self.shapes = [], []

    def predict_probabilities(self, inputs):
        b, t, _, h, w = inputs.shape
        self.calls.append(inputs[0, :, 0, 0, 0].round().long().tolist())
        self.shapes.append(tuple(inputs.shape))
        pos = (torch.arange(t, dtype=torch.float32) / (t - 1)).view(1, t, 1, 1, 1)
        col = (torch.arange(w, dtype=torch.float32) / (w - 1)).view(1, 1, 1, 1, w)
        p = ((pos + col) / 2).expand(b, t, 1, h, w)
        return torch.cat([1 - p, p], dim=2)


class IntensityModel(nn.Module):
    """p(fg) = intensity / 255 of each pixel: a perfect oracle when fed 0/255 label videos."""

    def __init__(self):
        super().__init__()
        self.data_preprocessor = EchoDataPreprocessor(mean=0.0, std=1.0, in_channels=1)
        self.shapes = []

    def predict_probabilities(self, inputs):
        self.shapes.append(tuple(inputs.shape))
        p = (inputs[:, :, :1] / 255.0).clamp(0, 1)
        return torch.cat([1 - p, p], dim=2)


def _index_video(n, h=6, w=32):
    return np.repeat(np.arange(n, dtype=np.uint8)[:, None, None], h, 1).repeat(w, 2)


def _expected_probs(n, t, starts, w):
    """Foreground probability of every (frame, column), averaged by hand."""
    pos_sum, count = np.zeros(n), np.zeros(n)
    for s in starts:
        for k in range(t):
            if s + k < n:
                pos_sum[s + k] += k / (t - 1)
                count[s + k] += 1
    assert np.all(count > 0)
    col = np.arange(w) / (w - 1)
    return (pos_sum / count)[:, None] / 2 + col[None] / 2


@pytest.mark.parametrize('n, t, stride, starts', [
    (13, 5, 3, [0, 3, 6, 8]),        # end-aligned last window
    (14, 5, 3, [0, 3, 6, 9]),        # last regular window already ends at the end
    (12, 4, 4, [0, 4, 8]),           # no overlap
    (10, 6, 1, [0, 1, 2, 3, 4]),     # dense
    (6, 6, 3, [0]),                  # exactly one clip
])
def test_windows_cover_every_frame_and_average_overlaps(n, t, stride, starts):
    model = PositionModel()
    result = VideoPredictor(model, num_frames=t, stride=stride, keep_probs=True).predict(
        _index_video(n))
    assert model.calls == [list(range(s, s + t)) for s in starts]
    assert result.windows == [(s, s + t) for s in starts]
    expected = _expected_probs(n, t, starts, 32)
    assert result.probs.shape == (n, 2, 6, 32)
    np.testing.assert_allclose(result.probs[:, 1], np.broadcast_to(
        expected[:, None, :], (n, 6, 32)), atol=1e-6)
    np.testing.assert_allclose(result.probs.sum(axis=1), 1.0, atol=1e-6)
    clear = np.abs(expected - 0.5) > 1e-4
    want = (expected > 0.5).astype(np.uint8)
    assert np.array_equal(result.masks[:, 0][clear], want[clear])
    assert result.masks.dtype == np.uint8


def test_short_video_is_padded_with_its_last_frame_and_trimmed():
    model = PositionModel()
    result = VideoPredictor(model, num_frames=6, keep_probs=True).predict(_index_video(3))
    assert model.calls == [[0, 1, 2, 2, 2, 2]]
    assert result.masks.shape == (3, 6, 32) and result.windows == [(0, 3)]
    np.testing.assert_allclose(result.probs[:, 1, 0, 0], np.arange(3) / 5 / 2, atol=1e-6)


def test_masks_at_original_resolution_for_a_non_square_video():
    n, h, w = 7, 45, 70
    yy, xx = np.mgrid[:h, :w]
    truth = ((yy >= 10) & (yy < 35) & (xx >= 15) & (xx < 55)).astype(np.uint8)
    video = np.repeat(truth[None] * 255, n, axis=0).astype(np.uint8)
    model = IntensityModel()
    result = VideoPredictor(model, num_frames=4, image_size=(32, 32)).predict(video)
    assert all(s[-2:] == (32, 32) for s in model.shapes)  # the model saw its input size
    assert result.masks.shape == (n, h, w)
    for mask in result.masks:
        dice = 2 * np.sum(mask & truth) / (mask.sum() + truth.sum())
        assert dice > 0.93


def test_step_api_matches_predict_and_returns_final_frames():
    n, t = 23, 5
    video = _index_video(n)
    whole = VideoPredictor(PositionModel(), num_frames=t, stride=2, keep_probs=True) \
        .predict(video)
    pred = VideoPredictor(PositionModel(), num_frames=t, stride=2, keep_probs=True)
    state = pred.start(VideoInfo(num_frames=n, fps=30.0, size=(6, 32)))
    got, fed = [], 0
    for chunk in (1, 3, 0, 7, 2, 1, 9):
        out = pred.step(state, video[fed:fed + chunk])
        fed += chunk
        got.append(out)
        assert sum(len(g) for g in got) <= fed
    step_result = pred.finish(state)
    streamed = np.concatenate(got)
    assert len(streamed) > 0
    assert np.array_equal(streamed, whole.masks[:len(streamed)])
    assert np.array_equal(step_result.masks, whole.masks)
    np.testing.assert_allclose(step_result.probs, whole.probs, atol=1e-6)
    assert step_result.windows == whole.windows and step_result.fps == 30.0
    with pytest.raises(RuntimeError, match='start'):
        pred.step(state, video[:1])


def test_predictor_checks_its_arguments():
    with pytest.raises(ValueError, match='stride'):
        VideoPredictor(PositionModel(), num_frames=4, stride=5)
    pred = VideoPredictor(PositionModel(), num_frames=4)
    state = pred.start()
    pred.step(state, np.zeros((2, 8, 8), np.uint8))
    with pytest.raises(ValueError, match='differs'):
        pred.step(state, np.zeros((1, 9, 8), np.uint8))
    with pytest.raises(ValueError, match='no frames'):
        pred.finish(pred.start())


@pytest.mark.parametrize('seed, use_fps', [(3, True), (4, False), (7, True)])
def test_synthetic_multibeat_video_with_oracle_model(seed, use_fps):
    """ED/ES and EF of a synthetic multi-beat video segmented perfectly by the predictor."""
    out = SyntheticEchoGenerator(64, difficulty='easy').generate_long(seed=seed,
                                                                      num_frames=100)
    lv = (out['labels'] == 1).astype(np.uint8)
    fps = out['fps'] if use_fps else None
    result = VideoPredictor(IntensityModel(), num_frames=10).predict(
        lv * 255, spacing=out['spacing'], fps=fps)
    assert np.array_equal(result.masks, lv)
    assert result.units == dict(area='mm^2', volume='ml', length='mm')
    # Simpson volumes in ml follow the generator's true volumes
    rel = np.abs(result.volumes - out['lv_volumes']) / out['lv_volumes']
    assert np.median(rel) < 0.05
    n = len(lv)
    for found, truth in ((result.ed_frames, out['ed_frames']),
                         (result.es_frames, out['es_frames'])):
        assert found, 'no events found'
        for f in found:                                   # every event is a true one
            assert min(abs(f - g) for g in truth) <= 1, (found, truth)
        for g in truth:                                   # every interior truth is found
            if 3 <= g <= n - 4:
                assert min(abs(f - g) for f in found) <= 1, (found, truth)
    assert len(result.beats) >= 2
    for beat in result.beats:
        true_ef = out['beat_ef'][beat['es_frame']]
        assert beat['ef'] == pytest.approx(true_ef, abs=4.0)
    # the same post-processing straight from the true masks
    direct = VideoResult.from_masks(lv, spacing=out['spacing'], fps=fps)
    assert direct.ed_frames == result.ed_frames and direct.ef_mean == result.ef_mean


def test_clip_settings_from_the_config():
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'baselines', 'fcn_r18_synthetic.py'))
    assert clip_settings(cfg) == (10, (128, 128))
    assert clip_settings(Config(dict(model=dict()))) == (None, None)


@pytest.fixture(scope='module')
def tiny_cfg():
    return Config(dict(model=tiny_segmentor_cfg(), default_scope='echoseg'))


def test_init_model_loads_weights_and_attaches_cfg(tiny_cfg, tmp_path):
    model = init_model(tiny_cfg)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.01)
    ckpt = tmp_path / 'tiny.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, ckpt)
    loaded = init_model(tiny_cfg, str(ckpt))
    assert not loaded.training and loaded.cfg.model.type == 'EchoVideoSegmentor'
    for (k, a), b in zip(model.state_dict().items(), loaded.state_dict().values()):
        assert torch.equal(a, b), k
    # predictor defaults when the config says nothing: T = 10, the video's own size
    pred = VideoPredictor(loaded)
    assert pred.num_frames == 10 and pred.image_size is None


def test_init_model_refuses_planted_pickle_and_names_bad_files(tiny_cfg, tmp_path):
    marker = tmp_path / 'pwned'

    class Planted:
        def __reduce__(self):
            return (open, (str(marker), 'w'))

    evil = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': Planted()}, evil)
    with pytest.raises(CheckpointError, match='evil.pth: refused to load'):
        init_model(tiny_cfg, str(evil))
    assert not marker.exists()
    with pytest.raises(CheckpointError, match='nothere.pth: checkpoint file not found'):
        init_model(tiny_cfg, str(tmp_path / 'nothere.pth'))
    bad = tmp_path / 'corrupt.pth'
    bad.write_bytes(b'PK\x03\x04 not a checkpoint')
    with pytest.raises(CheckpointError, match='corrupt.pth: not a readable'):
        init_model(tiny_cfg, str(bad))
    other = tmp_path / 'other.pth'
    torch.save({'state_dict': {'foo.weight': torch.ones(2)}, 'meta': {}}, other)
    with pytest.raises(CheckpointError, match='other.pth: the weights do not fit'):
        init_model(tiny_cfg, str(other))


def test_real_echonet_video(echodata, tiny_cfg):
    from echoseg.io import read_video, video_info
    videos = osp.join(echodata, 'echonet_sample', 'Videos')
    path = osp.join(videos, sorted(f for f in __import__('os').listdir(videos)
                                   if f.endswith('.avi'))[0])
    frames = read_video(path)
    model = init_model(tiny_cfg)
    result = VideoPredictor(model, num_frames=8, image_size=(64, 64)).predict(path)
    assert result.masks.shape == (frames.shape[0], 112, 112)
    assert result.fps == pytest.approx(video_info(path).fps)
    assert result.units['volume'] == 'px^3' and result.volumes.shape == (frames.shape[0], )


def _asymmetric_video(n=12, h=40, w=56, seed=0):
    """A beating dark disc off the image centre on speckle: no mirror symmetry."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w]
    frames = []
    for i in range(n):
        r = 9 + 3 * np.cos(2 * np.pi * i / 6)
        disc = (yy - 18) ** 2 + (xx - 20) ** 2 <= r * r
        frames.append(np.where(disc, 25, 150) + rng.integers(0, 60, (h, w)))
    return np.clip(np.stack(frames), 0, 255).astype(np.uint8)


def test_tta_flip_prediction_on_mirrored_video_is_the_mirrored_prediction(tiny_cfg):
    torch.manual_seed(0)
    model = init_model(tiny_cfg)
    video = _asymmetric_video()
    mirrored = np.ascontiguousarray(video[:, :, ::-1])
    kwargs = dict(num_frames=4, stride=2, image_size=(32, 32), keep_probs=True)
    # centre the random head so that about half of the pixels are foreground
    m = float(np.median(VideoPredictor(model, **kwargs).predict(video).probs[:, 1]))
    with torch.no_grad():
        model.decode_head.conv_seg.bias[1] -= float(np.log(m / (1 - m)))
    tta = VideoPredictor(model, tta_flip=True, **kwargs)
    a, b = tta.predict(video), tta.predict(mirrored)
    assert len(np.unique(a.masks)) == 2                  # a non-trivial prediction
    assert np.array_equal(b.masks, a.masks[:, :, ::-1])  # exactly, pixel for pixel
    assert np.array_equal(b.probs, a.probs[..., ::-1])
    # independently: the mean of the plain predictions on the video and, mirrored back,
    # on the mirrored video
    plain = VideoPredictor(model, **kwargs)
    p, q = plain.predict(video), plain.predict(mirrored)
    assert np.allclose(a.probs, (p.probs + q.probs[..., ::-1]) / 2, atol=1e-6)
    # the plain model is not mirror-equivariant: the averaging is what makes it so
    assert not np.array_equal(q.probs, p.probs[..., ::-1])
    # post-processed masks (the default) of the plain prediction, for the record
    assert a.postprocess == dict(largest_component=True, fill_holes=True, temporal_window=0)
