"""What every reader and writer shares: suffixes, file checks, uint8 frames, screening."""
import os
import os.path as osp
from typing import Iterator, NamedTuple, Optional, Tuple, Union

import cv2
import numpy as np

from .errors import EchoDataError

PathLike = Union[str, os.PathLike]


class VideoInfo(NamedTuple):
    """Header facts of a video: frame count, frames per second (None if unknown), (H, W)."""
    num_frames: int
    fps: Optional[float]
    size: Tuple[int, int]


def file_suffix(path: PathLike) -> str:
    """Lower-case suffix, with ``.nii.gz`` kept whole."""
    name = osp.basename(os.fspath(path)).lower()
    if name.endswith('.nii.gz'):
        return '.nii.gz'
    return osp.splitext(name)[1]


def check_file(path: PathLike) -> str:
    """``path`` as a string; an error naming it when it is missing, not a file or empty."""
    path = os.fspath(path)
    if not osp.exists(path):
        raise EchoDataError(f'{path}: file not found')
    if not osp.isfile(path):
        raise EchoDataError(f'{path}: is not a file')
    if osp.getsize(path) == 0:
        raise EchoDataError(f'{path}: file is empty (0 bytes)')
    return path


def make_folder(path: str) -> None:
    """Create the folder a file is about to be written to."""
    folder = osp.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)


def to_uint8(arr: np.ndarray) -> np.ndarray:
    """Intensities to uint8: 0..255 kept, [0, 1] floats scaled by 255, others min-max."""
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == bool:
        return arr.astype(np.uint8) * 255
    a = np.nan_to_num(arr.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    if a.size == 0:
        return a.astype(np.uint8)
    lo, hi = float(a.min()), float(a.max())
    if np.issubdtype(arr.dtype, np.floating) and lo >= 0 and 0 < hi <= 1.0:
        a = a * 255.0
    elif lo < 0 or hi > 255:
        a = (a - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(a)
    return np.clip(np.rint(a), 0, 255).astype(np.uint8)


def bgr_to_gray(frame: np.ndarray) -> np.ndarray:
    if frame.ndim == 2:
        return frame
    if frame.shape[2] == 1:
        return frame[..., 0]
    if frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


def frame_stack(path: str, frames) -> np.ndarray:
    """Frames to write as a (N, H, W) or (N, H, W, 3) uint8 array; an error naming ``path``
    for any other shape."""
    frames = np.asarray(frames)
    if frames.ndim == 2:
        frames = frames[None]
    if frames.ndim not in (3, 4) or frames.shape[0] == 0 or (
            frames.ndim == 4 and frames.shape[3] not in (1, 3)):
        raise EchoDataError(f'{path}: cannot write frames of shape {frames.shape}; expected '
                            '(N, H, W) or (N, H, W, 3) with N >= 1')
    return to_uint8(frames)


# --------------------------------------------------------------------------- content
def _frame_list(indices, limit: int = 10) -> str:
    shown = ', '.join(str(i) for i in indices[:limit])
    return shown + (f' ... ({len(indices)} frames)' if len(indices) > limit else '')


def check_finite(arr: np.ndarray, path: str) -> None:
    """A float image with NaN/inf values is refused (converting it would silently turn
    them into black pixels)."""
    if not np.issubdtype(arr.dtype, np.floating) or np.all(np.isfinite(arr)):
        return
    bad = np.flatnonzero(~np.isfinite(arr.reshape(arr.shape[0], -1)).all(axis=1)) \
        if arr.ndim >= 3 else np.array([0])
    raise EchoDataError(f'{path}: NaN or infinite pixel values in frame(s) '
                        f'{_frame_list(bad.tolist())}; the image is corrupt or was written '
                        'from a failed computation')


def screen_frames(path: str, frames) -> Iterator[np.ndarray]:
    """Yield ``frames``; refuse a video whose every frame is constant (all black, all
    white, one gray level: nothing to segment) and warn about constant frames among
    others (they get empty masks)."""
    blank, count, value = [], 0, None
    for frame in frames:
        lo, hi = int(frame.min()), int(frame.max())
        if lo == hi:
            blank.append(count)
            value = lo
        count += 1
        yield frame
    if count and len(blank) == count:
        raise EchoDataError(f'{path}: every frame is constant (all pixels {value}'
                            f'{", black" if value == 0 else ""}): no image to segment')
    if blank:
        from mmengine.logging import print_log
        print_log(f'{path}: {len(blank)} of {count} frames are constant (blank): '
                  f'{_frame_list(blank)}; they are segmented as they are (no LV)',
                  logger='current', level=30)


def screened(path: str, video: np.ndarray) -> np.ndarray:
    """``video`` after :func:`screen_frames` has looked at every frame."""
    for _ in screen_frames(path, video):
        pass
    return video


Spacing = Optional[Tuple[float, float]]


class Reader:
    """One file format: its suffixes and how to read it. Paths come checked
    (:func:`check_file`); every method returns uint8 frames or raises
    :class:`EchoDataError` naming the file and the problem."""

    #: short name of the format
    name = ''
    #: lower-case suffixes (``file_suffix``) of the format's files
    suffixes: Tuple[str, ...] = ()

    def header(self, path: str) -> Tuple[VideoInfo, Spacing]:
        """(frame count, fps, (H, W)) and spacing (row_mm, col_mm) or None, without
        decoding the frames where the format allows it."""
        raise NotImplementedError

    def read(self, path: str) -> Tuple[np.ndarray, Spacing]:
        """The frames (N, H, W) and the spacing (row_mm, col_mm) or None."""
        raise NotImplementedError

    def iter_frames(self, path: str) -> Iterator[np.ndarray]:
        """The frames as (H, W), one at a time (read whole unless the format streams)."""
        yield from self.read(path)[0]

    def read_mask(self, path: str) -> np.ndarray:
        """Labels as uint8: (H, W) for a 2-D file, (N, H, W) for a sequence."""
        raise unsupported_mask(path)


def unsupported_mask(path: str) -> EchoDataError:
    return EchoDataError(f'{path}: unsupported mask format {file_suffix(path)!r} (use NIfTI, '
                         'MHD or PNG)')
