"""Reading and writing echo videos, volumes and masks: one small interface for every format.

- Videos (AVI, MP4, ...): OpenCV, colour converted to gray (:mod:`.video`).
- Medical images (NIfTI ``.nii``/``.nii.gz``, MetaImage ``.mhd``/``.mha``, NRRD): SimpleITK
  (:mod:`.volume`).
- DICOM multi-frame cine (``.dcm``, or the ``DICM`` marker): pydicom (:mod:`.dicom`),
  spacing and frame rate from the tags.
- Single images (PNG, ...): OpenCV, one frame (:mod:`.image`).

The reader of a file is chosen by :func:`echoseg.io.registry.reader_for`; files of other
suffixes are tried with OpenCV. :func:`iter_frames` yields the frames of any of these one
at a time (OpenCV decodes one frame per call, DICOM through pydicom's frame iterator,
uncompressed 8-bit MetaImage/NRRD/NIfTI by extracting one slice at a time with SimpleITK),
and :func:`video_header` gives (frame count, fps, size) and spacing without decoding, so a
video need not be held whole.

Every reader returns uint8 frames and raises :class:`EchoDataError` naming the file and the
problem (missing, unreadable, no frames, truncated, wrong dimensionality, NaN values, every
frame constant, non-integer labels); constant frames among others are logged. The cases
and their messages: docs/errors.md.
"""
import os
from typing import Iterator, Optional, Tuple

import numpy as np

from .common import PathLike, VideoInfo, check_file, unsupported_mask
from .registry import VIDEO, reader_for, writer_for


def read_video(path: PathLike) -> np.ndarray:
    """A grayscale video (N, H, W) uint8 from a video, medical-image or image file."""
    return read_volume(path)[0]


def read_volume(path: PathLike) -> Tuple[np.ndarray, Optional[Tuple[float, float]]]:
    """Frames (N, H, W) uint8 and the pixel spacing (row_mm, col_mm) from the header.

    For a video file (no spacing in the format) the spacing is None.
    """
    path = check_file(path)
    return reader_for(path, default=VIDEO).read(path)


def read_mask(path: PathLike) -> np.ndarray:
    """Labels as uint8: (H, W) for a 2-D file, (N, H, W) for a sequence (NIfTI/MHD)."""
    path = check_file(path)
    reader = reader_for(path, default=None)
    if reader is None:
        raise unsupported_mask(path)
    return reader.read_mask(path)


def video_info(path: PathLike) -> VideoInfo:
    """Frame count, fps and (H, W) from the header, without decoding the frames."""
    return video_header(path)[0]


def video_header(path: PathLike) -> Tuple[VideoInfo, Optional[Tuple[float, float]]]:
    """(frame count, fps, (H, W)) and spacing (row_mm, col_mm) or None, without decoding
    the frames (an AVI/MP4 without a frame count in its header is counted by decoding)."""
    path = check_file(path)
    return reader_for(path, default=VIDEO).header(path)


def iter_frames(path: PathLike) -> Iterator[np.ndarray]:
    """The frames of a video file as (H, W) uint8 gray, one at a time, equal to the frames
    of :func:`read_video`. OpenCV videos, DICOM cines and uncompressed 8-bit volumes are
    decoded frame by frame; other volumes and images are read whole and then yielded."""
    path = check_file(path)
    yield from reader_for(path, default=VIDEO).iter_frames(path)


def write_video(path: PathLike, frames, fps: float = 25.0,
                spacing: Optional[Tuple[float, float]] = None) -> str:
    """Write frames (N, H, W) gray or (N, H, W, 3) BGR; returns the path.

    ``.mp4``/``.mov`` use the mp4v codec and ``.avi`` MJPG; for them ``frames`` may also be
    any iterable of (H, W) / (H, W, 3) frames, encoded one at a time (memory does not grow
    with the video's length). A NIfTI/MHD path writes a volume instead, with ``spacing``
    (row_mm, col_mm) in its header.
    """
    path = os.fspath(path)
    return writer_for(path)(path, frames, fps=fps, spacing=spacing)
