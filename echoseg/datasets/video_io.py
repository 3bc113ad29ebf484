"""Reading and writing echo videos, volumes and masks: one small interface for every format.

- Videos (AVI, MP4, ...): OpenCV, colour converted to gray.
- Medical images (NIfTI ``.nii``/``.nii.gz``, MetaImage ``.mhd``/``.mha``, NRRD): SimpleITK.
  ``GetArrayFromImage`` returns (frames, rows, cols): a CAMUS half sequence of header size
  (cols, rows, frames) comes back as (N, H, W); a 2-D image as N = 1.
- DICOM multi-frame cine (``.dcm``, or the ``DICM`` marker): pydicom
  (:mod:`echoseg.datasets.dicom_io`), spacing and frame rate from the tags.
- Single images (PNG, ...): OpenCV, one frame.

:func:`iter_frames` yields the frames of any of these one at a time (OpenCV decodes one
frame per call, DICOM through pydicom's frame iterator, uncompressed 8-bit MetaImage/NRRD/
NIfTI by extracting one slice at a time with SimpleITK), and :func:`video_header` gives
(frame count, fps, size) and spacing without decoding, so a video need not be held whole.

Every reader returns uint8 frames and raises :class:`EchoDataError` naming the file and the
problem (missing, unreadable, no frames, truncated, wrong dimensionality, NaN values, every
frame constant, non-integer labels); constant frames among others are logged. The cases
and their messages: docs/errors.md.
"""
import gzip
import os
import os.path as osp
import struct
import tempfile
from typing import Iterator, NamedTuple, Optional, Tuple, Union

import cv2
import numpy as np

from .dicom_io import (DICOM_SUFFIXES, dicom_header, is_dicom_file, iter_dicom_frames,
                       read_dicom)
from .errors import EchoDataError

PathLike = Union[str, os.PathLike]

VOLUME_SUFFIXES = ('.nii', '.nii.gz', '.mhd', '.mha', '.nrrd')
#: containers read with OpenCV (others are tried with OpenCV too)
VIDEO_SUFFIXES_READ = ('.avi', '.mp4', '.mov', '.mkv', '.m4v', '.mpg', '.mpeg', '.wmv')
IMAGE_SUFFIXES = ('.png', '.bmp', '.jpg', '.jpeg', '.tif', '.tiff')
#: codec per container written by :func:`write_video`
WRITE_CODECS = {'.mp4': 'mp4v', '.m4v': 'mp4v', '.mov': 'mp4v', '.avi': 'MJPG'}


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


def is_volume_file(path: PathLike) -> bool:
    return file_suffix(path) in VOLUME_SUFFIXES


def _check_file(path: PathLike) -> str:
    path = os.fspath(path)
    if not osp.exists(path):
        raise EchoDataError(f'{path}: file not found')
    if not osp.isfile(path):
        raise EchoDataError(f'{path}: is not a file')
    if osp.getsize(path) == 0:
        raise EchoDataError(f'{path}: file is empty (0 bytes)')
    return path


def _to_uint8(arr: np.ndarray) -> np.ndarray:
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


def _bgr_to_gray(frame: np.ndarray) -> np.ndarray:
    if frame.ndim == 2:
        return frame
    if frame.shape[2] == 1:
        return frame[..., 0]
    if frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


# --------------------------------------------------------------------------- content
def _frame_list(indices, limit: int = 10) -> str:
    shown = ', '.join(str(i) for i in indices[:limit])
    return shown + (f' ... ({len(indices)} frames)' if len(indices) > limit else '')


def _check_finite(arr: np.ndarray, path: str) -> None:
    """A float image with NaN/inf values is refused (converting it would silently turn
    them into black pixels)."""
    if not np.issubdtype(arr.dtype, np.floating) or np.all(np.isfinite(arr)):
        return
    bad = np.flatnonzero(~np.isfinite(arr.reshape(arr.shape[0], -1)).all(axis=1)) \
        if arr.ndim >= 3 else np.array([0])
    raise EchoDataError(f'{path}: NaN or infinite pixel values in frame(s) '
                        f'{_frame_list(bad.tolist())}; the image is corrupt or was written '
                        'from a failed computation')


def _screen_frames(path: str, frames) -> Iterator[np.ndarray]:
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


def _screened(path: str, video: np.ndarray) -> np.ndarray:
    for _ in _screen_frames(path, video):
        pass
    return video


# --------------------------------------------------------------------------- SimpleITK
def _sitk():
    import SimpleITK as sitk
    return sitk


_MET_BYTES = {'MET_UCHAR': 1, 'MET_CHAR': 1, 'MET_USHORT': 2, 'MET_SHORT': 2,
              'MET_UINT': 4, 'MET_INT': 4, 'MET_FLOAT': 4, 'MET_ULONG': 8, 'MET_LONG': 8,
              'MET_DOUBLE': 8}


def _mhd_data_problem(path: str) -> Optional[str]:
    """What is wrong with the data file of a ``.mhd`` header (missing or shorter than
    its header says), or None."""
    try:
        with open(path, errors='replace') as f:
            fields = dict(line.split('=', 1) for line in f if '=' in line)
    except OSError:
        return None
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    data = fields.get('ElementDataFile')
    if not data or data == 'LOCAL' or data.startswith('LIST'):
        return None
    data_path = data if osp.isabs(data) else osp.join(osp.dirname(path), data)
    if not osp.isfile(data_path):
        return f'its data file {data} is missing'
    if fields.get('CompressedData', 'False').lower() == 'true':
        return None
    try:
        need = int(np.prod([int(v) for v in fields['DimSize'].split()]))
        need *= _MET_BYTES[fields['ElementType']] * int(fields.get('ElementNumberOfChannels',
                                                                   1))
    except (KeyError, ValueError):
        return None
    have = osp.getsize(data_path)
    if have < need:
        return f'its data file {data} is short: {have} bytes, the header needs {need}'
    return None


def _unreadable(path: str, exc: Exception) -> EchoDataError:
    if file_suffix(path) == '.mhd':
        problem = _mhd_data_problem(path)
        if problem:
            return EchoDataError(f'{path}: unreadable MetaImage: {problem}')
    msg = [line for line in str(exc).strip().splitlines() if line.strip()]
    return EchoDataError(f'{path}: unreadable or corrupt image file: '
                         f'{msg[-1].strip() if msg else exc}')


def _read_sitk(path: str):
    sitk = _sitk()
    try:
        img = sitk.ReadImage(path)
    except RuntimeError as exc:
        raise _unreadable(path, exc) from None
    return img


def _frames_axis_first(arr: np.ndarray, dim: int, path: str) -> np.ndarray:
    """SimpleITK array of a ``dim``-D image to (N, H, W)."""
    if dim == 2:
        arr = arr[None]
    elif dim == 4:
        # (t, z, y, x): a 2-D+t image is stored with one singleton of t and z
        if arr.shape[1] == 1:
            arr = arr[:, 0]
        elif arr.shape[0] == 1:
            arr = arr[0]
        else:
            raise EchoDataError(f'{path}: 4-D image of array shape {arr.shape} is not a 2-D '
                                'sequence (expected a singleton axis)')
    elif dim != 3:
        raise EchoDataError(f'{path}: {dim}-D image, expected a 2-D image or a 2-D sequence')
    if arr.shape[0] == 0:
        raise EchoDataError(f'{path}: the image has zero frames')
    if 0 in arr.shape[1:]:
        raise EchoDataError(f'{path}: the image has an empty frame size {arr.shape[1:]}')
    return arr


def _sitk_spacing(img) -> Tuple[float, float]:
    sx, sy = img.GetSpacing()[:2]
    return float(sy), float(sx)


# --------------------------------------------------------------------------- readers
def _read_cv2_video(path: str) -> np.ndarray:
    return np.stack(list(_screen_frames(path, _iter_cv2_video(path))))


def _read_image(path: str, flags: int) -> np.ndarray:
    img = cv2.imread(path, flags)
    if img is None:
        raise EchoDataError(f'{path}: unreadable or corrupt image file')
    return img


def read_video(path: PathLike) -> np.ndarray:
    """A grayscale video (N, H, W) uint8 from a video, medical-image or image file."""
    path = _check_file(path)
    suffix = file_suffix(path)
    if suffix in VOLUME_SUFFIXES or is_dicom_file(path):
        return read_volume(path)[0]
    if suffix in IMAGE_SUFFIXES:
        return _screened(path, _to_uint8(_bgr_to_gray(_read_image(
            path, cv2.IMREAD_UNCHANGED)))[None])
    return _read_cv2_video(path)


def read_volume(path: PathLike) -> Tuple[np.ndarray, Optional[Tuple[float, float]]]:
    """Frames (N, H, W) uint8 and the pixel spacing (row_mm, col_mm) from the header.

    For a video file (no spacing in the format) the spacing is None.
    """
    path = _check_file(path)
    if is_dicom_file(path):
        frames, spacing, _ = read_dicom(path)
        return _screened(path, frames), spacing
    if file_suffix(path) not in VOLUME_SUFFIXES:
        return read_video(path), None
    sitk = _sitk()
    img = _read_sitk(path)
    arr = sitk.GetArrayFromImage(img)
    comps = img.GetNumberOfComponentsPerPixel()
    if comps > 1:
        if comps not in (3, 4):
            raise EchoDataError(f'{path}: {comps} components per pixel, expected gray or RGB')
        rgb = arr[..., :3].astype(np.float64)
        arr = rgb @ np.array([0.299, 0.587, 0.114])
    arr = _frames_axis_first(arr, img.GetDimension(), path)
    _check_finite(arr, path)
    return _screened(path, _to_uint8(arr)), _sitk_spacing(img)


def _check_labels(arr: np.ndarray, path: str) -> np.ndarray:
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == bool:
        return arr.astype(np.uint8)
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)) or not np.array_equal(arr, np.round(arr)):
            raise EchoDataError(f'{path}: mask holds non-integer values; expected labels')
    if arr.size and (arr.min() < 0 or arr.max() > 255):
        raise EchoDataError(f'{path}: mask labels outside 0..255 '
                            f'(min {arr.min()}, max {arr.max()})')
    return arr.astype(np.uint8)


def read_mask(path: PathLike) -> np.ndarray:
    """Labels as uint8: (H, W) for a 2-D file, (N, H, W) for a sequence (NIfTI/MHD)."""
    path = _check_file(path)
    suffix = file_suffix(path)
    if suffix in IMAGE_SUFFIXES:
        img = _read_image(path, cv2.IMREAD_UNCHANGED)
        if img.ndim == 3:
            if not all(np.array_equal(img[..., 0], img[..., c]) for c in range(1, img.shape[2])):
                raise EchoDataError(f'{path}: colour mask; expected a single-channel label '
                                    'image')
            img = img[..., 0]
        return _check_labels(img, path)
    if suffix not in VOLUME_SUFFIXES:
        raise EchoDataError(f'{path}: unsupported mask format {suffix!r} (use NIfTI, MHD or '
                            'PNG)')
    sitk = _sitk()
    img = _read_sitk(path)
    if img.GetNumberOfComponentsPerPixel() != 1:
        raise EchoDataError(f'{path}: {img.GetNumberOfComponentsPerPixel()} components per '
                            'pixel; a mask must have one')
    dim = img.GetDimension()
    arr = _frames_axis_first(sitk.GetArrayFromImage(img), dim, path)
    arr = _check_labels(arr, path)
    return arr[0] if dim == 2 else arr


def read_volume_header(path: PathLike) -> Tuple[VideoInfo, Tuple[float, float]]:
    """Frame count, (H, W) and spacing (row_mm, col_mm) of a NIfTI/MHD file, header only."""
    path = _check_file(path)
    if file_suffix(path) not in VOLUME_SUFFIXES:
        raise EchoDataError(f'{path}: not a NIfTI/MHD/NRRD file')
    sitk = _sitk()
    reader = sitk.ImageFileReader()
    reader.SetFileName(path)
    try:
        reader.ReadImageInformation()
    except RuntimeError as exc:
        msg = str(exc).strip().splitlines()
        raise EchoDataError(f'{path}: unreadable or corrupt image header: '
                            f'{msg[-1] if msg else exc}') from None
    size = list(reader.GetSize())
    dim = len(size)
    if dim == 2:
        n = 1
    elif dim == 3:
        n = size[2]
    elif dim == 4 and 1 in size[2:]:
        n = size[3] if size[2] == 1 else size[2]
    else:
        raise EchoDataError(f'{path}: {dim}-D image of size {tuple(size)}, expected a '
                            '2-D image or a 2-D sequence')
    if n == 0:
        raise EchoDataError(f'{path}: the image has zero frames')
    sx, sy = reader.GetSpacing()[:2]
    return VideoInfo(int(n), None, (int(size[1]), int(size[0]))), (float(sy), float(sx))


def video_info(path: PathLike) -> VideoInfo:
    """Frame count, fps and (H, W) from the header, without decoding the frames."""
    path = _check_file(path)
    suffix = file_suffix(path)
    if suffix in VOLUME_SUFFIXES:
        return read_volume_header(path)[0]
    if is_dicom_file(path):
        n, fps, size, _ = dicom_header(path)
        return VideoInfo(n, fps, size)
    if suffix in IMAGE_SUFFIXES:
        img = _read_image(path, cv2.IMREAD_UNCHANGED)
        return VideoInfo(1, None, (int(img.shape[0]), int(img.shape[1])))
    cap = cv2.VideoCapture(path)
    try:
        if not cap.isOpened():
            raise EchoDataError(f'{path}: unreadable or corrupt video (OpenCV cannot open it)')
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
    return VideoInfo(n, fps, (h, w))


# --------------------------------------------------------------------------- streaming
def video_header(path: PathLike) -> Tuple[VideoInfo, Optional[Tuple[float, float]]]:
    """(frame count, fps, (H, W)) and spacing (row_mm, col_mm) or None, without decoding
    the frames (an AVI/MP4 without a frame count in its header is counted by decoding)."""
    path = _check_file(path)
    if is_dicom_file(path):
        n, fps, size, spacing = dicom_header(path)
        return VideoInfo(n, fps, size), spacing
    if file_suffix(path) in VOLUME_SUFFIXES:
        return read_volume_header(path)
    return video_info(path), None


def _iter_cv2_video(path: str) -> Iterator[np.ndarray]:
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
            frame = _to_uint8(_bgr_to_gray(frame))
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


def _iter_sitk_slices(path: str) -> Optional[Iterator[np.ndarray]]:
    """Slice-by-slice reading of an uncompressed single-component 8-bit 2-D+t file (its
    frames need no volume-wide intensity scaling); None when that does not apply."""
    if path.lower().endswith('.gz'):
        return None  # a gzip stream cannot seek: extracting slices re-reads the file
    sitk = _sitk()
    reader = sitk.ImageFileReader()
    reader.SetFileName(path)
    try:
        reader.ReadImageInformation()
    except RuntimeError:
        return None  # the whole-file reader gives the error message
    size = list(reader.GetSize())
    if (len(size) != 3 or reader.GetNumberOfComponents() != 1
            or reader.GetPixelID() != sitk.sitkUInt8 or size[2] == 0):
        return None

    def frames():
        for z in range(size[2]):
            reader.SetExtractIndex([0, 0, z])
            reader.SetExtractSize([size[0], size[1], 0])
            try:
                image = reader.Execute()
            except RuntimeError as exc:  # e.g. a .mhd whose .raw is missing or short
                raise _unreadable(path, exc) from None
            yield sitk.GetArrayFromImage(image)
    return frames()


def iter_frames(path: PathLike) -> Iterator[np.ndarray]:
    """The frames of a video file as (H, W) uint8 gray, one at a time, equal to the frames
    of :func:`read_video`. OpenCV videos, DICOM cines and uncompressed 8-bit volumes are
    decoded frame by frame; other volumes and images are read whole and then yielded."""
    path = _check_file(path)
    if is_dicom_file(path):
        yield from _screen_frames(path, iter_dicom_frames(path))
        return
    suffix = file_suffix(path)
    if suffix in VOLUME_SUFFIXES:
        sliced = _iter_sitk_slices(path)
        yield from (_screen_frames(path, sliced) if sliced is not None
                    else read_volume(path)[0])
        return
    if suffix in IMAGE_SUFFIXES:
        yield from read_video(path)
        return
    yield from _screen_frames(path, _iter_cv2_video(path))


# --------------------------------------------------------------------------- writer
def _as_bgr(frame: np.ndarray) -> np.ndarray:
    frame = _to_uint8(np.asarray(frame))
    if frame.ndim == 2:
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    if frame.shape[2] == 1:
        return cv2.cvtColor(frame[..., 0], cv2.COLOR_GRAY2BGR)
    return np.ascontiguousarray(frame)


def _write_cv2_video(path: str, frames, fps: float) -> str:
    """Encode frames from any iterable (one at a time) into an OpenCV video."""
    suffix = file_suffix(path)
    if suffix not in WRITE_CODECS:
        raise EchoDataError(f'{path}: cannot write a video with suffix {suffix!r} (use '
                            f'{", ".join(sorted(WRITE_CODECS))} or NIfTI)')
    writer, size = None, None
    try:
        for frame in frames:
            frame = _as_bgr(frame)
            if writer is None:
                size = frame.shape[:2]
                writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*WRITE_CODECS[suffix]),
                                         float(fps), (int(size[1]), int(size[0])), True)
                if not writer.isOpened():
                    if osp.exists(path):
                        os.remove(path)  # an empty file would pass for a video
                    raise EchoDataError(f'{path}: OpenCV cannot open a '
                                        f'{WRITE_CODECS[suffix]} writer')
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


def write_video(path: PathLike, frames, fps: float = 25.0,
                spacing: Optional[Tuple[float, float]] = None) -> str:
    """Write frames (N, H, W) gray or (N, H, W, 3) BGR; returns the path.

    ``.mp4``/``.mov`` use the mp4v codec and ``.avi`` MJPG; for them ``frames`` may also be
    any iterable of (H, W) / (H, W, 3) frames, encoded one at a time (memory does not grow
    with the video's length). A NIfTI/MHD path writes a volume instead, with ``spacing``
    (row_mm, col_mm) in its header.
    """
    path = os.fspath(path)
    folder = osp.dirname(path)
    if not isinstance(frames, np.ndarray) and file_suffix(path) not in VOLUME_SUFFIXES:
        if folder:
            os.makedirs(folder, exist_ok=True)
        return _write_cv2_video(path, frames, fps)
    frames = np.asarray(frames)
    if frames.ndim == 2:
        frames = frames[None]
    if frames.ndim not in (3, 4) or frames.shape[0] == 0 or (
            frames.ndim == 4 and frames.shape[3] not in (1, 3)):
        raise EchoDataError(f'{path}: cannot write frames of shape {frames.shape}; expected '
                            '(N, H, W) or (N, H, W, 3) with N >= 1')
    frames = _to_uint8(frames)
    if folder:
        os.makedirs(folder, exist_ok=True)
    if file_suffix(path) in VOLUME_SUFFIXES:
        sitk = _sitk()
        gray = frames if frames.ndim == 3 else np.stack([_bgr_to_gray(f) for f in frames])
        img = sitk.GetImageFromArray(gray)
        if spacing is not None:
            img.SetSpacing((float(spacing[1]), float(spacing[0]), 1.0))
        sitk.WriteImage(img, path)
        return path
    return _write_cv2_video(path, frames, fps)


#: volume formats :func:`write_volume_frames` writes one frame at a time
STREAMED_VOLUME_SUFFIXES = ('.nii', '.nii.gz', '.mhd')


def _sitk_template(suffix: str, frame_shape: Tuple[int, int],
                   spacing: Optional[Tuple[float, float]]) -> bytes:
    """The file SimpleITK writes for a one-frame (1, H, W) uint8 volume of ``suffix``
    (``.nii``: header and data; ``.mhd``: the header)."""
    sitk = _sitk()
    img = sitk.GetImageFromArray(np.zeros((1, ) + tuple(frame_shape), np.uint8))
    if spacing is not None:
        img.SetSpacing((float(spacing[1]), float(spacing[0]), 1.0))
    with tempfile.TemporaryDirectory() as tmp:
        path = osp.join(tmp, 'template' + suffix)
        sitk.WriteImage(img, path)
        with open(path, 'rb') as f:
            return f.read()


def write_volume_frames(path: PathLike, frames, frame_shape: Tuple[int, int],
                        num_frames: int, spacing: Optional[Tuple[float, float]] = None
                        ) -> str:
    """Write ``num_frames`` (H, W) uint8 frames from any iterable as a (N, H, W) volume,
    one frame at a time (memory of one frame, whatever N is): ``.nii``/``.nii.gz`` and
    ``.mhd`` (+ ``.raw``) with the header SimpleITK writes for the same image, so
    :func:`read_mask` / SimpleITK read back exactly what :func:`write_video` would have
    written; other volume formats are stacked and written by SimpleITK."""
    path = os.fspath(path)
    suffix = file_suffix(path)
    h, w = int(frame_shape[0]), int(frame_shape[1])
    if suffix not in STREAMED_VOLUME_SUFFIXES:
        return write_video(path, np.stack(list(frames)), spacing=spacing)
    if num_frames < 1:
        raise EchoDataError(f'{path}: cannot write a volume of {num_frames} frames')
    folder = osp.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)

    def write_frames(f):
        count = 0
        for frame in frames:
            frame = np.asarray(frame)
            if frame.shape != (h, w) or frame.dtype != np.uint8:
                raise EchoDataError(f'{path}: frame {count} is {frame.dtype} {frame.shape}, '
                                    f'expected uint8 ({h}, {w})')
            f.write(np.ascontiguousarray(frame).tobytes())
            count += 1
        if count != num_frames:
            raise EchoDataError(f'{path}: {count} frames given for a volume of '
                                f'{num_frames}')

    if suffix == '.mhd':
        text = _sitk_template('.mhd', (h, w), spacing).decode()
        raw_name = osp.basename(path)[:-len('.mhd')] + '.raw'
        lines = []
        for line in text.splitlines():
            key = line.split('=')[0].strip()
            if key == 'DimSize':
                line = f'DimSize = {w} {h} {int(num_frames)}'
            elif key == 'ElementDataFile':
                line = f'ElementDataFile = {raw_name}'
            lines.append(line)
        with open(osp.join(osp.dirname(path), raw_name), 'wb') as f:
            write_frames(f)
        with open(path, 'w') as f:
            f.write('\n'.join(lines) + '\n')
        return path
    if num_frames > 32767:
        raise EchoDataError(f'{path}: NIfTI-1 holds at most 32767 frames, not {num_frames}; '
                            'write .mhd instead')
    template = _sitk_template('.nii', (h, w), spacing)
    offset = int(struct.unpack('<f', template[108:112])[0])  # vox_offset: data start
    if struct.unpack('<h', template[40:42])[0] != 3 or offset > len(template):
        raise RuntimeError('unexpected NIfTI header from SimpleITK')
    header = bytearray(template[:offset])
    header[46:48] = struct.pack('<h', int(num_frames))  # dim[3]: the frame count
    opener = (lambda p: gzip.open(p, 'wb', compresslevel=6)) if suffix == '.nii.gz' else \
        (lambda p: open(p, 'wb'))
    with opener(path) as f:
        f.write(bytes(header))
        write_frames(f)
    return path
