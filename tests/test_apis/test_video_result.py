"""VideoResult.from_masks: post-processing, flags and the guarantee that no EF outside
[0, 100] is reported without a flag (a property test over random masks)."""
import csv
import json

import numpy as np
import pytest

from echoseg.apis import VideoResult
from echoseg.evaluation.functional import simpson_volume
from echoseg.evaluation.functional.plausibility import FLAG_DESCRIPTIONS, ef_in_range


def _ellipse(h, w, cy, cx, ry, rx):
    yy, xx = np.mgrid[:h, :w]
    return ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1


def _beating_lv(n=120, h=80, w=64, period=30.0):
    """(n, h, w) uint8: an LV ellipse whose size follows a cosine (ED at k * period)."""
    masks = np.zeros((n, h, w), np.uint8)
    for i in range(n):
        s = 0.5 * (1 + np.cos(2 * np.pi * i / period))     # 1 at ED, 0 at ES
        masks[i][_ellipse(h, w, 36, 32, 16 + 8 * s, 9 + 4 * s)] = 1
    return masks


def test_second_blob_only_before_post_processing():
    masks = _beating_lv()
    blob = _ellipse(80, 64, 70, 32, 5, 12)               # an "atrium" below the LV
    assert not (blob & (masks == 1).any(axis=0)).any()
    with_blob = masks.copy()
    with_blob[:, blob] = 1
    result = VideoResult.from_masks(with_blob, fps=50.0)
    assert np.array_equal(result.masks, masks)           # only the LV is left
    assert (result.frame_measures['components'] == 2).all()
    assert result.areas.tolist() == (masks == 1).reshape(120, -1).sum(1).tolist()
    assert all('multiple_components' in b['flags'] and not b['used'] for b in result.beats)
    assert np.isnan(result.ef_mean) and 'several LV components' in result.ef_note
    raw = VideoResult.from_masks(with_blob, fps=50.0, postprocess=False)
    assert np.array_equal(raw.masks, with_blob) and raw.postprocess is None
    # the clean video: every beat used, EF = Simpson by hand at the found frames
    clean = VideoResult.from_masks(masks, fps=50.0)
    assert clean.flags == [] and clean.ef_note is None and len(clean.beats) == 3
    efs = []
    for b in clean.beats:
        v_ed, v_es = (simpson_volume(masks[b['ed_frame']] == 1),
                      simpson_volume(masks[b['es_frame']] == 1))
        efs.append((v_ed - v_es) / v_ed * 100)
        assert b['used'] and b['ef'] == pytest.approx(efs[-1])
    assert clean.ef_mean == pytest.approx(np.mean(efs))
    assert clean.warnings() == []


def test_smoothed_ef_readout_reads_the_smoothed_volume_curve(tmp_path):
    from scipy.signal import savgol_filter
    masks = _beating_lv()
    frames = VideoResult.from_masks(masks, fps=50.0)
    smoothed = VideoResult.from_masks(masks, fps=50.0, ef_readout='smoothed')
    assert (frames.ef_readout, smoothed.ef_readout) == ('frames', 'smoothed')
    assert smoothed.ed_frames == frames.ed_frames and smoothed.es_frames == frames.es_frames
    window = int(round(smoothed.period / 4.0)) // 2 * 2 + 1
    curve = savgol_filter(smoothed.volumes, window, 2, mode='interp')
    for b in smoothed.beats:
        assert b['edv'] == pytest.approx(curve[b['ed_frame']])
        assert b['ef'] == pytest.approx((curve[b['ed_frame']] - curve[b['es_frame']])
                                        / curve[b['ed_frame']] * 100)
    data = json.loads(open(smoothed.to_json(tmp_path / 'v.json')).read())
    assert data['ef_readout'] == 'smoothed'
    with pytest.raises(ValueError, match='ef_readout must be one of'):
        VideoResult.from_masks(masks, fps=50.0, ef_readout='max')


def test_flags_reach_json_csv_and_warnings(tmp_path):
    masks = _beating_lv()
    masks[55:81, 68:78, 26:38] = 1        # a second blob around the second beat only
    result = VideoResult.from_masks(masks, fps=50.0)
    assert [b['used'] for b in result.beats] == [True, False, True]
    assert result.beats[1]['flags'] == ['multiple_components']
    assert result.flags == ['multiple_components'] and result.ef_note is None
    assert result.ef_mean == pytest.approx(np.mean([result.beats[0]['ef'],
                                                    result.beats[2]['ef']]))
    data = json.loads(open(result.to_json(tmp_path / 'v.json')).read())
    assert data['flags'] == ['multiple_components']
    assert data['flag_descriptions'] == {
        'multiple_components': FLAG_DESCRIPTIONS['multiple_components']}
    assert [b['used'] for b in data['beats']] == [True, False, True]
    assert data['lv_components'][60] == 2 and data['lv_components'][20] == 1
    with open(result.to_beats_csv(tmp_path / 'b.csv')) as f:
        rows = list(csv.DictReader(f))
    assert [r['used'] for r in rows] == ['1', '0', '1']
    assert rows[1]['flags'] == 'multiple_components'
    with open(result.to_csv(tmp_path / 'f.csv')) as f:
        frames = list(csv.DictReader(f))
    assert frames[60]['lv_components'] == '2' and frames[20]['lv_components'] == '1'
    lines = result.warnings()
    assert len(lines) == 1 and lines[0].startswith('beat 2 (ED frame 60, ES frame 75')
    assert 'several LV components' in lines[0]
    summary = result.summary()
    assert summary['num_beats_used'] == 2 and summary['num_beats'] == 3
    assert summary['flags'] == 'multiple_components'


def _random_video(rng):
    """A beating ellipse whose ED and ES shapes change from beat to beat (so area and
    Simpson volume may disagree), with random extra blobs, noise and empty frames; or
    pure noise."""
    h, w = int(rng.integers(24, 48)), int(rng.integers(24, 48))
    period = float(rng.uniform(8, 24))
    n = int(rng.uniform(1.2, 4) * period)
    masks = np.zeros((n, h, w), np.uint8)
    if rng.random() < 0.15:
        return (rng.random((n, h, w)) < rng.uniform(0, 0.6)).astype(np.uint8)
    r_max = min(h, w) / 2 - 1
    shapes = rng.uniform(2, r_max, size=(n // int(period) + 2, 4))
    for shape in shapes:
        if rng.random() < 0.6:   # tall ED, squat ES: smaller area but a larger volume
            shape[:] = r_max, r_max / 3, r_max / 2, r_max / 3 * 1.6
    extra = rng.random() < 0.3
    for i in range(n):
        s = 0.5 * (1 + np.cos(2 * np.pi * i / period))
        ry_ed, rx_ed, ry_es, rx_es = shapes[int((i + period / 2) // period)]
        masks[i][_ellipse(h, w, h / 2, w / 2, ry_es + s * (ry_ed - ry_es),
                          rx_es + s * (rx_ed - rx_es))] = 1
        if extra and rng.random() < 0.5:
            masks[i][_ellipse(h, w, rng.uniform(0, h), rng.uniform(0, w),
                              rng.uniform(1, 6), rng.uniform(1, 6))] = 1
        if rng.random() < 0.05:
            masks[i][rng.random((h, w)) < 0.1] = 1
        if rng.random() < 0.03:
            masks[i] = 0
    return masks


@pytest.mark.parametrize('seed', range(4))
def test_no_ef_outside_0_100_without_a_flag(seed, tmp_path):
    rng = np.random.default_rng(seed)
    out_of_range = 0
    for _ in range(20):
        masks = _random_video(rng)
        spacing = None if rng.random() < 0.5 else tuple(rng.uniform(0.1, 1.0, 2))
        fps = None if rng.random() < 0.5 else float(rng.uniform(20, 80))
        post = [True, False, dict(temporal_window=3)][int(rng.integers(3))]
        curve = 'area' if rng.random() < 0.7 else 'volume'
        r = VideoResult.from_masks(masks, spacing=spacing, fps=fps, postprocess=post,
                                   curve=curve)
        for b in r.beats:
            assert set(b['flags']) <= set(FLAG_DESCRIPTIONS)
            if not ef_in_range(b['ef']):
                out_of_range += 1
                assert 'ef_out_of_range' in b['flags'], b
            if b['used']:
                assert ef_in_range(b['ef']) and not b['flags']
        # the video's EF: within [0, 100], or absent with a reason
        if np.isfinite(r.ef_mean):
            assert 0 <= r.ef_mean <= 100 and r.ef_note is None
            assert any(b['used'] for b in r.beats)
        else:
            assert r.ef_note and not any(b['used'] for b in r.beats)
        s = r.summary()
        for key in ('ef_mean', 'ef_sd'):
            assert not np.isfinite(s[key]) or 0 <= s[key] <= 100
        data = json.loads(open(r.to_json(tmp_path / 'r.json')).read())
        assert data['ef_mean'] is None or 0 <= data['ef_mean'] <= 100
        assert (data['ef_mean'] is None) == (data['ef_note'] is not None)
    # the property is not vacuous: random masks do produce impossible beats
    assert out_of_range > 0


def test_overlay_video_from_the_file_equals_the_array(tmp_path):
    """write_overlay_video reads the file again frame by frame (flat memory) and writes
    the same video as from the whole array; a video of another length is refused."""
    from echoseg.io import read_video, write_video
    masks = _beating_lv(n=20, h=48, w=40)
    frames = (60 + 100 * masks + np.random.default_rng(0).integers(0, 30, masks.shape)
              ).astype(np.uint8)
    source = write_video(tmp_path / 'src.avi', frames, fps=25)
    video = read_video(source)
    result = VideoResult.from_masks(masks, fps=25.0)
    a = result.write_overlay_video(tmp_path / 'from_array.avi', video)
    b = result.write_overlay_video(tmp_path / 'from_file.avi', source)
    assert np.array_equal(read_video(a), read_video(b))
    assert read_video(b).shape == masks.shape
    with pytest.raises(ValueError, match='does not match the masks'):
        VideoResult.from_masks(masks[:10], fps=25.0).write_overlay_video(
            tmp_path / 'bad.avi', source)


@pytest.mark.parametrize('post', [True, False, dict(temporal_window=3)])
def test_block_by_block_pass_equals_one_whole_stack_pass(post, monkeypatch):
    import echoseg.apis.video_result as module
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:48, :48]
    masks = []
    for i in range(70):
        r = 10 + 4 * np.cos(2 * np.pi * i / 23)
        m = ((yy - 24) ** 2 + (xx - 24) ** 2 <= r * r).astype(np.uint8)
        m[rng.integers(0, 48, 4), rng.integers(0, 48, 4)] = 1  # specks: extra components
        m[22:25, 22:25] = 0 if i % 3 else 1                    # holes
        masks.append(m)
    masks = np.array(masks)
    results = []
    for block in (16, 10 ** 9):  # blocks that split the video / one whole-stack block
        monkeypatch.setattr(module, 'FRAME_BLOCK', block)
        before = masks.copy()
        results.append(VideoResult.from_masks(masks, spacing=(0.3, 0.3), fps=50.0,
                                              postprocess=post))
        np.testing.assert_array_equal(masks, before)  # the caller's masks untouched
    own = masks.copy()  # copy=False: the post-processing may overwrite them
    results.append(VideoResult.from_masks(own, spacing=(0.3, 0.3), fps=50.0,
                                          postprocess=post, copy=False))
    np.testing.assert_array_equal(results[2].masks, results[0].masks)
    a, b = results[:2]
    np.testing.assert_array_equal(a.masks, b.masks)
    np.testing.assert_array_equal(a.areas, b.areas)
    np.testing.assert_allclose(a.volumes, b.volumes)
    assert a.to_dict() == b.to_dict() and len(a.beats) >= 2


@pytest.mark.parametrize('window', [0, 5])
def test_compressed_masks_and_block_wise_vote_give_the_whole_stack_result(
        monkeypatch, tmp_path, window):
    """Blocks of 7 frames (the vote reading its neighbours' frames) and compressed masks
    give what one pass over the whole stack gives: the reference is the post-processing
    called on all 120 frames at once."""
    import echoseg.apis.video_result as vr
    from echoseg.apis import CompressedMasks
    from echoseg.evaluation.functional.postprocess import LVPostProcessing
    rng = np.random.default_rng(3)
    masks = _beating_lv()
    masks[rng.random(masks.shape) < 0.03] ^= 1      # speckle: the vote has work to do
    post = dict(temporal_window=window)
    reference = LVPostProcessing(temporal_window=window)(masks, 1)
    monkeypatch.setattr(vr, 'FRAME_BLOCK', 7)
    plain = VideoResult.from_masks(masks, fps=50.0, postprocess=post)
    packed = VideoResult.from_masks(CompressedMasks.from_array(masks), fps=50.0,
                                    postprocess=post)
    inplace = masks.copy()
    VideoResult.from_masks(inplace, fps=50.0, postprocess=post, copy=False)
    assert isinstance(packed.masks, CompressedMasks)
    for got in (plain.masks, np.asarray(packed.masks)):
        np.testing.assert_array_equal(got, reference)
    if window == 0:   # in place only without the vote, which reads raw neighbours
        np.testing.assert_array_equal(inplace, reference)
    np.testing.assert_array_equal(packed.areas, (reference == 1).reshape(120, -1).sum(1))
    assert packed.beats == plain.beats and packed.ed_frames == plain.ed_frames
    # written frame by frame, read back whole
    from echoseg.io import read_mask
    np.testing.assert_array_equal(read_mask(packed.save_masks(tmp_path / 'm.nii.gz')),
                                  reference)
    packed.spacing = (0.5, 0.25)
    with np.load(packed.save_masks(tmp_path / 'm.npz')) as data:
        np.testing.assert_array_equal(data['masks'], reference)
        np.testing.assert_array_equal(data['spacing'], [0.5, 0.25])


def test_blocks_shrink_with_the_frame_size(monkeypatch):
    """The block holds at most FRAME_BLOCK_PIXELS pixels: a large-frame video is cut into
    blocks of a few frames (seen by the post-processing), a small-frame one is not."""
    import echoseg.apis.video_result as vr
    from echoseg.evaluation.functional.postprocess import LVPostProcessing
    seen = []
    monkeypatch.setattr(LVPostProcessing, '__call__',
                        lambda self, masks, lv_label=1: seen.append(len(masks)) or masks.copy())
    monkeypatch.setattr(vr, 'FRAME_BLOCK_PIXELS', 3 * 40 * 30)
    VideoResult.from_masks(np.zeros((10, 40, 30), np.uint8))
    assert seen == [3, 3, 3, 1]
    seen.clear()
    VideoResult.from_masks(np.zeros((10, 4, 3), np.uint8))
    assert seen == [10]
