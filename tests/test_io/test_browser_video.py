"""echoseg.io.browser_video: the viewer's VP8 WebM, read back frame for frame."""
import numpy as np
import pytest

from echoseg.io import iter_frames, video_info, write_browser_video


def test_webm_holds_every_frame(tmp_path):
    yy, xx = np.mgrid[0:32, 0:48]
    gray = np.stack([np.clip(xx * 4 + yy * 2 + 10 * i, 0, 255) for i in range(9)])
    frames = np.repeat(gray[..., None], 3, axis=3).astype(np.uint8)
    path = write_browser_video(str(tmp_path / 'overlay.webm'), frames, 25.0)
    if path is None:
        pytest.skip('this OpenCV build has no VP8 encoder (the viewer shows JPEG frames)')
    info = video_info(path)
    assert (info.num_frames, info.size) == (9, (32, 48))
    assert info.fps == pytest.approx(25.0)
    decoded = np.stack(list(iter_frames(path)))
    assert np.abs(decoded.astype(int) - gray).mean() < 8   # VP8 is lossy


def test_no_encoder_means_none(tmp_path, monkeypatch):
    import cv2

    class Closed:
        def __init__(self, *args):
            pass

        def isOpened(self):
            return False

    monkeypatch.setattr(cv2, 'VideoWriter', Closed)
    frames = np.zeros((3, 8, 8, 3), np.uint8)
    assert write_browser_video(str(tmp_path / 'x.webm'), frames, 25.0) is None
