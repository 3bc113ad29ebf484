"""DICOM multi-frame cine (ultrasound) input, frame by frame, through pydicom.

- :func:`dicom_header`: frame count, frame rate, (H, W) and pixel spacing from the tags,
  without touching the pixel data.
- :func:`iter_dicom_frames`: the frames as (H, W) uint8 gray, one at a time (pydicom 3's
  ``iter_pixels`` reads one frame of the file at a time), so memory does not grow with
  the length of the cine.

Pixel spacing (row_mm, col_mm): ``PixelSpacing`` when present; else the physical deltas of
the ultrasound regions (``SequenceOfUltrasoundRegions``: ``PhysicalDeltaY``,
``PhysicalDeltaX``, in cm when the ``PhysicalUnits*Direction`` code is 3), from the first
region with centimetre units in both directions. Frame rate (frames/s):
``RecommendedDisplayFrameRate``, ``CineRate``, else ``1000 / FrameTime`` (ms) or the mean
of ``FrameTimeVector``.

Intensities: MONOCHROME2 as stored, MONOCHROME1 inverted, RGB / YBR (converted to RGB by
pydicom) to gray with the ITU-R 601 weights; more than 8 stored bits are scaled by
``255 / (2**BitsStored - 1)`` (the same scale for every frame, so a streamed frame equals
the frame of a whole read). Compressed transfer syntaxes are decoded by the pixel-data
plug-ins pydicom finds (RLE and deflate natively, JPEG through pylibjpeg / Pillow /
GDCM when installed); otherwise the error names the file, the transfer syntax and what
to install. pydicom itself is optional: without it a DICOM input is a clear error.
"""
import os
from typing import Iterator, Optional, Tuple

import numpy as np

from .common import Reader, Spacing, VideoInfo, screen_frames, screened
from .errors import EchoDataError

DICOM_SUFFIXES = ('.dcm', '.dicom')
#: ``PhysicalUnitsXDirection`` code of centimetres (DICOM PS3.3 C.8.5.5.1.15)
_UNIT_CM = 3


def is_dicom_file(path) -> bool:
    """A ``.dcm``/``.dicom`` suffix, or the ``DICM`` preamble marker (files named without
    a suffix, as DICOM exports often are)."""
    path = os.fspath(path)
    if path.lower().endswith(DICOM_SUFFIXES):
        return True
    try:
        with open(path, 'rb') as f:
            f.seek(128)
            return f.read(4) == b'DICM'
    except OSError:
        return False


def _pydicom(path: str):
    try:
        import pydicom
    except ImportError:
        raise EchoDataError(f'{path}: reading DICOM needs pydicom (pip install pydicom; '
                            'tools/setup_env.sh installs it)') from None
    return pydicom


def _read_header(path: str):
    pydicom = _pydicom(path)
    try:
        return pydicom.dcmread(path, stop_before_pixels=True)
    except Exception as exc:  # pydicom raises InvalidDicomError, OSError, ValueError ...
        raise EchoDataError(f'{path}: unreadable or corrupt DICOM file: {exc}') from None


def _float(value) -> Optional[float]:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if np.isfinite(out) and out > 0 else None


def dicom_spacing(ds) -> Optional[Tuple[float, float]]:
    """(row_mm, col_mm) from ``PixelSpacing`` or the ultrasound regions; None if absent."""
    spacing = ds.get('PixelSpacing')
    if spacing is not None and len(spacing) == 2:
        row, col = _float(spacing[0]), _float(spacing[1])
        if row and col:
            return row, col
    for region in ds.get('SequenceOfUltrasoundRegions') or []:
        if (region.get('PhysicalUnitsXDirection') == _UNIT_CM
                and region.get('PhysicalUnitsYDirection') == _UNIT_CM):
            dy, dx = _float(region.get('PhysicalDeltaY')), _float(region.get('PhysicalDeltaX'))
            if dy and dx:
                return 10.0 * abs(dy), 10.0 * abs(dx)
    return None


def dicom_fps(ds) -> Optional[float]:
    """Frames per second from the cine tags; None if absent."""
    for key in ('RecommendedDisplayFrameRate', 'CineRate'):
        fps = _float(ds.get(key))
        if fps:
            return fps
    frame_time = _float(ds.get('FrameTime'))
    if frame_time:
        return 1000.0 / frame_time
    vector = ds.get('FrameTimeVector')
    if vector is not None and len(vector) > 1:
        steps = [v for v in (_float(x) for x in list(vector)[1:]) if v]
        if steps:
            return 1000.0 / float(np.mean(steps))
    return None


def dicom_header(path) -> Tuple[int, Optional[float], Tuple[int, int],
                                Optional[Tuple[float, float]]]:
    """(number of frames, fps, (H, W), spacing) of a DICOM file, pixel data untouched."""
    path = os.fspath(path)
    ds = _read_header(path)
    if 'Rows' not in ds or 'Columns' not in ds:
        raise EchoDataError(f'{path}: DICOM file without an image (no Rows/Columns tags)')
    n = int(ds.get('NumberOfFrames') or 1)
    if n < 1:
        raise EchoDataError(f'{path}: the DICOM image has zero frames')
    return n, dicom_fps(ds), (int(ds.Rows), int(ds.Columns)), dicom_spacing(ds)


def _to_gray_uint8(frame: np.ndarray, photometric: str, bits: int) -> np.ndarray:
    if frame.ndim == 3:
        frame = frame[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])
        frame = np.clip(np.rint(frame), 0, 255 if bits <= 8 else 2 ** bits - 1)
    if bits > 8:
        frame = np.clip(np.rint(frame.astype(np.float64) * (255.0 / (2 ** bits - 1))), 0, 255)
    frame = frame.astype(np.uint8) if frame.dtype != np.uint8 else frame
    if photometric == 'MONOCHROME1':
        frame = 255 - frame
    return frame


def iter_dicom_frames(path) -> Iterator[np.ndarray]:
    """The frames of a DICOM (cine) file as (H, W) uint8 gray, one at a time."""
    path = os.fspath(path)
    ds = _read_header(path)
    _pydicom(path)
    from pydicom.pixels import iter_pixels
    photometric = str(ds.get('PhotometricInterpretation', 'MONOCHROME2')).upper()
    bits = int(ds.get('BitsStored') or ds.get('BitsAllocated') or 8)
    syntax = getattr(getattr(ds, 'file_meta', None), 'TransferSyntaxUID', None)
    count = 0
    try:
        for frame in iter_pixels(path):
            count += 1
            yield _to_gray_uint8(np.asarray(frame), photometric, bits)
    except EchoDataError:
        raise
    except (RuntimeError, NotImplementedError, ValueError, AttributeError) as exc:
        name = getattr(syntax, 'name', syntax)
        raise EchoDataError(
            f'{path}: cannot decode the DICOM pixel data (transfer syntax {name} '
            f'{syntax}): {exc}. Compressed DICOM needs a pydicom pixel-data plug-in for '
            'that syntax (e.g. pip install pylibjpeg pylibjpeg-libjpeg, or Pillow / '
            'GDCM)') from None
    if count == 0:
        raise EchoDataError(f'{path}: the DICOM file has no pixel data')


def read_dicom(path) -> Tuple[np.ndarray, Optional[Tuple[float, float]], Optional[float]]:
    """(frames (N, H, W) uint8, spacing, fps) of a whole DICOM file."""
    n, fps, size, spacing = dicom_header(path)
    return np.stack(list(iter_dicom_frames(path))), spacing, fps


class DicomReader(Reader):
    """DICOM (cine) files through pydicom, with the spacing and fps of their tags."""

    name = 'dicom'
    suffixes = DICOM_SUFFIXES

    def header(self, path: str) -> Tuple[VideoInfo, Spacing]:
        n, fps, size, spacing = dicom_header(path)
        return VideoInfo(n, fps, size), spacing

    def read(self, path: str) -> Tuple[np.ndarray, Spacing]:
        frames, spacing, _ = read_dicom(path)
        return screened(path, frames), spacing

    def iter_frames(self, path: str) -> Iterator[np.ndarray]:
        yield from screen_frames(path, iter_dicom_frames(path))


__all__ = ['DICOM_SUFFIXES', 'DicomReader', 'is_dicom_file', 'dicom_header', 'dicom_spacing',
           'dicom_fps', 'iter_dicom_frames', 'read_dicom']
