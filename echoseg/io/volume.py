"""Medical-image volumes (NIfTI ``.nii``/``.nii.gz``, MetaImage ``.mhd``/``.mha``, NRRD)
through SimpleITK: the reader (videos, masks, headers) and the writers (whole, or one frame
at a time).

``GetArrayFromImage`` returns (frames, rows, cols): a CAMUS half sequence of header size
(cols, rows, frames) comes back as (N, H, W); a 2-D image as N = 1.
"""
import gzip
import os
import os.path as osp
import struct
import tempfile
from typing import Iterator, Optional, Tuple

import numpy as np

from .common import (PathLike, Reader, Spacing, VideoInfo, bgr_to_gray, check_file,
                     check_finite, file_suffix, frame_stack, make_folder, screen_frames,
                     screened, to_uint8)
from .errors import EchoDataError
from .image import check_labels

#: volume formats :func:`write_volume_frames` writes one frame at a time
STREAMED_VOLUME_SUFFIXES = ('.nii', '.nii.gz', '.mhd')


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


class VolumeReader(Reader):
    """NIfTI, MetaImage and NRRD through SimpleITK, with the spacing of the header.
    Uncompressed 8-bit sequences are read one slice at a time by :meth:`iter_frames`."""

    name = 'volume'
    suffixes = ('.nii', '.nii.gz', '.mhd', '.mha', '.nrrd')

    def header(self, path: str) -> Tuple[VideoInfo, Tuple[float, float]]:
        """Frame count, (H, W) and spacing (row_mm, col_mm), header only (fps None)."""
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

    def read(self, path: str) -> Tuple[np.ndarray, Tuple[float, float]]:
        """Frames (N, H, W) uint8 (RGB to gray) and the header spacing."""
        sitk = _sitk()
        img = _read_sitk(path)
        arr = sitk.GetArrayFromImage(img)
        comps = img.GetNumberOfComponentsPerPixel()
        if comps > 1:
            if comps not in (3, 4):
                raise EchoDataError(f'{path}: {comps} components per pixel, expected gray '
                                    'or RGB')
            rgb = arr[..., :3].astype(np.float64)
            arr = rgb @ np.array([0.299, 0.587, 0.114])
        arr = _frames_axis_first(arr, img.GetDimension(), path)
        check_finite(arr, path)
        return screened(path, to_uint8(arr)), _sitk_spacing(img)

    def iter_frames(self, path: str) -> Iterator[np.ndarray]:
        sliced = _iter_sitk_slices(path)
        yield from (screen_frames(path, sliced) if sliced is not None
                    else self.read(path)[0])

    def read_mask(self, path: str) -> np.ndarray:
        sitk = _sitk()
        img = _read_sitk(path)
        if img.GetNumberOfComponentsPerPixel() != 1:
            raise EchoDataError(f'{path}: {img.GetNumberOfComponentsPerPixel()} components '
                                'per pixel; a mask must have one')
        dim = img.GetDimension()
        arr = _frames_axis_first(sitk.GetArrayFromImage(img), dim, path)
        arr = check_labels(arr, path)
        return arr[0] if dim == 2 else arr


def read_volume_header(path: PathLike) -> Tuple[VideoInfo, Tuple[float, float]]:
    """Frame count, (H, W) and spacing (row_mm, col_mm) of a NIfTI/MHD file, header only."""
    path = check_file(path)
    if file_suffix(path) not in VolumeReader.suffixes:
        raise EchoDataError(f'{path}: not a NIfTI/MHD/NRRD file')
    return VolumeReader().header(path)


# --------------------------------------------------------------------------- writers
def write_volume(path, frames, fps=None, spacing: Spacing = None) -> str:
    """Write frames (N, H, W) gray or (N, H, W, 3) BGR (to gray) as a volume with
    ``spacing`` (row_mm, col_mm) in its header; returns the path. ``fps`` is ignored."""
    path = os.fspath(path)
    frames = frame_stack(path, frames)
    make_folder(path)
    sitk = _sitk()
    gray = frames if frames.ndim == 3 else np.stack([bgr_to_gray(f) for f in frames])
    img = sitk.GetImageFromArray(gray)
    if spacing is not None:
        img.SetSpacing((float(spacing[1]), float(spacing[0]), 1.0))
    sitk.WriteImage(img, path)
    return path


def _sitk_template(suffix: str, frame_shape: Tuple[int, int], spacing: Spacing) -> bytes:
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
                        num_frames: int, spacing: Spacing = None) -> str:
    """Write ``num_frames`` (H, W) uint8 frames from any iterable as a (N, H, W) volume,
    one frame at a time (memory of one frame, whatever N is): ``.nii``/``.nii.gz`` and
    ``.mhd`` (+ ``.raw``) with the header SimpleITK writes for the same image, so
    ``read_mask`` / SimpleITK read back exactly what :func:`write_volume` would have
    written; other formats are stacked and written by the writer of their suffix."""
    path = os.fspath(path)
    suffix = file_suffix(path)
    h, w = int(frame_shape[0]), int(frame_shape[1])
    if suffix not in STREAMED_VOLUME_SUFFIXES:
        from .registry import writer_for
        return writer_for(path)(path, np.stack(list(frames)), spacing=spacing)
    if num_frames < 1:
        raise EchoDataError(f'{path}: cannot write a volume of {num_frames} frames')
    make_folder(path)

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
