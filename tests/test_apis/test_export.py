"""echoseg.apis.export: a result's files, by kind; published whole; the summary."""
import csv
import json
import os
import os.path as osp

import numpy as np

from echoseg.apis import VideoResult
from echoseg.apis.export import (OUTPUT_KINDS, SUMMARY_FIELDS, publish_outputs, write_outputs,
                                 write_summary)
from echoseg.io import EchoDataError, read_mask, video_info


def _result_and_video(n=24, h=40, w=48, period=8.0):
    yy, xx = np.mgrid[:h, :w]
    radius = 9 + 3 * np.cos(2 * np.pi * np.arange(n) / period)
    masks = ((yy - h / 2) ** 2 + (xx - w / 2) ** 2 <= radius[:, None, None] ** 2)
    video = np.where(masks, 40, 160).astype(np.uint8)
    return VideoResult.from_masks(masks.astype(np.uint8), spacing=(0.3, 0.3), fps=25.0), video


def test_write_outputs_returns_each_file_by_kind(tmp_path):
    result, video = _result_and_video()
    paths = write_outputs(result, video, str(tmp_path), 'clip', extra=dict(source='x.avi'))
    assert tuple(paths) == OUTPUT_KINDS
    assert sorted(osp.basename(p) for p in paths.values()) == sorted(os.listdir(tmp_path))
    np.testing.assert_array_equal(read_mask(paths['masks']), result.masks)
    data = json.load(open(paths['json']))
    assert data['source'] == 'x.avi' and data['num_frames'] == 24
    with open(paths['csv']) as f:
        assert len(list(csv.DictReader(f))) == 24
    with open(paths['beats']) as f:
        assert len(list(csv.DictReader(f))) == len(result.beats)
    assert paths['overlay'].endswith(('clip_overlay.mp4', 'clip_overlay.avi'))
    assert video_info(paths['overlay']).num_frames == 24
    assert open(paths['curves'], 'rb').read(8) == b'\x89PNG\r\n\x1a\n'


def test_without_video_and_as_npz(tmp_path):
    result, _ = _result_and_video()
    paths = write_outputs(result, None, str(tmp_path), 'v', mask_format='npz',
                          with_video=False)
    assert set(paths) == set(OUTPUT_KINDS) - {'overlay'}
    assert osp.basename(paths['masks']) == 'v_masks.npz'
    np.testing.assert_array_equal(np.load(paths['masks'])['masks'], result.masks)


def test_overlay_falls_back_to_avi(tmp_path, monkeypatch):
    """Without an mp4 codec the overlay is an MJPG AVI, reported as the overlay."""
    result, video = _result_and_video()
    write = VideoResult.write_overlay_video

    def no_mp4(self, path, *args, **kwargs):
        if path.endswith('.mp4'):
            raise EchoDataError(f'{path}: OpenCV cannot open a mp4v writer')
        return write(self, path, *args, **kwargs)

    monkeypatch.setattr(VideoResult, 'write_overlay_video', no_mp4)
    paths = write_outputs(result, video, str(tmp_path), 'v')
    assert osp.basename(paths['overlay']) == 'v_overlay.avi'
    assert video_info(paths['overlay']).num_frames == 24


def test_publish_moves_every_file(tmp_path):
    staging, out = tmp_path / 'staging', tmp_path / 'out'
    staging.mkdir()
    out.mkdir()
    for name in ('b.csv', 'a.json'):
        (staging / name).write_text(name)
    assert publish_outputs(str(staging), str(out)) == [str(out / 'a.json'), str(out / 'b.csv')]
    assert os.listdir(staging) == [] and (out / 'b.csv').read_text() == 'b.csv'


def test_summary_columns_and_number_format(tmp_path):
    path = write_summary(str(tmp_path / 'summary.csv'),
                         [dict(video='a', ef_mean=55.123456, ef_sd=float('nan'), num_beats=3,
                               ef_note=None, unknown='dropped')])
    with open(path) as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == SUMMARY_FIELDS
    assert (rows[0]['video'], rows[0]['ef_mean'], rows[0]['ef_sd'], rows[0]['num_beats'],
            rows[0]['ef_note']) == ('a', '55.12', '', '3', '')

