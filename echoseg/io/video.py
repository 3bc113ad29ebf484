"""Videos (AVI, MP4, ...) through OpenCV: the reader, gray frames one at a time, and the
writer (mp4v MP4/MOV, MJPG AVI), fed one frame at a time."""
import os
import os.path as osp
from typing import Iterator, Tuple

import cv2
import numpy as np

from .common import (Reader, VideoInfo, bgr_to_gray, file_suffix, frame_stack, make_folder,
                     screen_frames, to_uint8)
from .errors import EchoDataError

#: codec per container written by :func:`write_opencv_video`
WRITE_CODECS = {'.mp4': 'mp4v', '.m4v': 'mp4v', '.mov': 'mp4v', '.avi': 'MJPG'}


def iter_cv2_video(path: str) -> Iterator[np.ndarray]:
    """The decoded frames as (H, W) uint8 gray; an error for a file OpenCV cannot open,
    frames of different sizes, no frames, or fewer frames than the header lists."""
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        cap.release()
        raise EchoDataError(f'{path}: unreadable or corrupt video (OpenCV cannot open it)')
    size, count = None, 0
    listed = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            frame = to_uint8(bgr_to_gray(frame))
            if size is None:
                size = frame.shape
            elif frame.shape != size:
                raise EchoDataError(f'{path}: frames of different sizes in one video')
            count += 1
            yield frame
    finally:
        cap.release()
    if count == 0:
        raise EchoDataError(f'{path}: the video has zero readable frames (empty or corrupt)')
    if count < listed:
        raise EchoDataError(f'{path}: truncated or corrupt video: its header lists {listed} '
                            f'frames but only {count} could be decoded')


class VideoReader(Reader):
    """AVI, MP4 and the other containers OpenCV opens, colour converted to gray. No
    spacing (the formats have none); fps from the header."""

    name = 'video'
    suffixes = ('.avi', '.mp4', '.mov', '.mkv', '.m4v', '.mpg', '.mpeg', '.wmv')

    def header(self, path: str) -> Tuple[VideoInfo, None]:
        """From the header; a file without a frame count in it is counted by decoding."""
        cap = cv2.VideoCapture(path)
        try:
            if not cap.isOpened():
                raise EchoDataError(f'{path}: unreadable or corrupt video (OpenCV cannot '
                                    'open it)')
            n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
            fps = float(cap.get(cv2.CAP_PROP_FPS)) or None
            h = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
            w = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
            if n <= 0 or h <= 0 or w <= 0:
                # no usable header: count by decoding
                n = 0
                while True:
                    ok, frame = cap.read()
                    if not ok:
                        break
                    n += 1
                    h, w = frame.shape[:2]
        finally:
            cap.release()
        if n == 0:
            raise EchoDataError(f'{path}: the video has zero frames (empty or corrupt)')
        return VideoInfo(n, fps, (h, w)), None

    def iter_frames(self, path: str) -> Iterator[np.ndarray]:
        yield from screen_frames(path, iter_cv2_video(path))

    def read(self, path: str) -> Tuple[np.ndarray, None]:
        return np.stack(list(self.iter_frames(path))), None


def _as_bgr(frame: np.ndarray) -> np.ndarray:
    frame = to_uint8(np.asarray(frame))
    if frame.ndim == 2:
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    if frame.shape[2] == 1:
        return cv2.cvtColor(frame[..., 0], cv2.COLOR_GRAY2BGR)
    return np.ascontiguousarray(frame)


def check_video_suffix(path: str) -> None:
    suffix = file_suffix(path)
    if suffix not in WRITE_CODECS:
        raise EchoDataError(f'{path}: cannot write a video with suffix {suffix!r} (use '
                            f'{", ".join(sorted(WRITE_CODECS))} or NIfTI)')


def write_opencv_video(path, frames, fps: float = 25.0, spacing=None) -> str:
    """Write frames (N, H, W) gray or (N, H, W, 3) BGR, or any iterable of (H, W) /
    (H, W, 3) frames encoded one at a time (memory does not grow with the video's length),
    as ``.mp4``/``.m4v``/``.mov`` (mp4v) or ``.avi`` (MJPG); returns the path. ``spacing``
    is ignored (the containers have no field for it)."""
    path = os.fspath(path)
    check_video_suffix(path)
    if isinstance(frames, np.ndarray):
        frames = frame_stack(path, frames)
    make_folder(path)
    codec = WRITE_CODECS[file_suffix(path)]
    writer, size = None, None
    try:
        for frame in frames:
            frame = _as_bgr(frame)
            if writer is None:
                size = frame.shape[:2]
                writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*codec), float(fps),
                                         (int(size[1]), int(size[0])), True)
                if not writer.isOpened():
                    if osp.exists(path):
                        os.remove(path)  # an empty file would pass for a video
                    raise EchoDataError(f'{path}: OpenCV cannot open a {codec} writer')
            elif frame.shape[:2] != size:
                raise EchoDataError(f'{path}: frames of different sizes ({size} and '
                                    f'{frame.shape[:2]})')
            writer.write(frame)
    finally:
        if writer is not None:
            writer.release()
    if writer is None:
        raise EchoDataError(f'{path}: no frames to write')
    if not osp.isfile(path) or osp.getsize(path) == 0:
        raise EchoDataError(f'{path}: writing the video failed (no output)')
    return path
