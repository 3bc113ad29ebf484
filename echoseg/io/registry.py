"""The one place where a file's format is decided: suffix -> reader, suffix -> writer, and
the media types of the files echoseg writes (the web viewer serves them with these).

- DICOM (pydicom): ``.dcm``, ``.dicom``, or any file with the ``DICM`` marker;
  :class:`~.dicom.DicomReader`.
- volumes (SimpleITK): ``.nii``, ``.nii.gz``, ``.mhd``, ``.mha``, ``.nrrd``;
  :class:`~.volume.VolumeReader`, written by :func:`~.volume.write_volume`.
- images (OpenCV): ``.png``, ``.bmp``, ``.jpg``, ``.jpeg``, ``.tif``, ``.tiff``;
  :class:`~.image.ImageReader`.
- videos (OpenCV): ``.avi``, ``.mp4``, ``.mov``, ``.mkv``, ``.m4v``, ``.mpg``, ``.mpeg``,
  ``.wmv`` (the read functions of :mod:`.api` try OpenCV on unknown suffixes too);
  :class:`~.video.VideoReader`,
  written by :func:`~.video.write_opencv_video` (``.mp4``, ``.m4v``, ``.mov``, ``.avi``).
- the browser's video: ``.webm``, written by :func:`~.browser_video.write_browser_video`
  (the web viewer's overlay).
"""
import os
from typing import Callable, Tuple

from .browser_video import BROWSER_VIDEO_SUFFIX
from .common import PathLike, Reader, file_suffix
from .dicom import DicomReader, is_dicom_file
from .errors import EchoDataError
from .image import ImageReader
from .video import WRITE_CODECS, VideoReader, check_video_suffix, write_opencv_video
from .volume import VolumeReader, write_volume

DICOM = DicomReader()
VOLUME = VolumeReader()
IMAGE = ImageReader()
VIDEO = VideoReader()
#: every reader, in the order :func:`reader_for` asks them
READERS: Tuple[Reader, ...] = (DICOM, VOLUME, IMAGE, VIDEO)

DICOM_SUFFIXES = DICOM.suffixes
VOLUME_SUFFIXES = VOLUME.suffixes
IMAGE_SUFFIXES = IMAGE.suffixes
#: containers read with OpenCV (the readers also try OpenCV on unknown suffixes)
VIDEO_SUFFIXES = VIDEO.suffixes
_BY_SUFFIX = {suffix: reader for reader in READERS for suffix in reader.suffixes}

#: media type of each kind of file echoseg writes, by suffix (``file_suffix``)
MEDIA_TYPES = {
    BROWSER_VIDEO_SUFFIX: 'video/webm', '.mp4': 'video/mp4', '.avi': 'video/x-msvideo',
    '.png': 'image/png', '.jpg': 'image/jpeg', '.nii.gz': 'application/gzip',
    '.gz': 'application/gzip', '.npz': 'application/zip', '.csv': 'text/csv',
    '.json': 'application/json'}
DEFAULT_MEDIA_TYPE = 'application/octet-stream'

_RAISE = object()


def readable_suffixes() -> Tuple[str, ...]:
    """The suffixes of files read as videos (video, volume, DICOM; single images are
    left out): what ``tools/infer.py`` collects in folders and the web viewer accepts."""
    return tuple(sorted(set(VIDEO_SUFFIXES) | set(VOLUME_SUFFIXES) | set(DICOM_SUFFIXES)))


def reader_for(path: PathLike, default=_RAISE) -> Reader:
    """The reader of ``path``, by its suffix; a file with the ``DICM`` marker is DICOM
    whatever its suffix (DICOM exports often have none), unless the suffix is a volume's.
    For an unknown suffix: ``default`` when given, else an :class:`EchoDataError` naming
    the file and the suffixes echoseg reads."""
    suffix = file_suffix(path)
    reader = _BY_SUFFIX.get(suffix)
    if reader is DICOM or reader is VOLUME:
        return reader
    if is_dicom_file(path):
        return DICOM
    if reader is not None:
        return reader
    if default is not _RAISE:
        return default
    what = f'suffix {suffix!r}' if suffix else 'no suffix and no DICOM marker'
    raise EchoDataError(f'{path}: no reader for a file with {what} (echoseg reads '
                        f'{", ".join(sorted(_BY_SUFFIX))})')


def is_volume_file(path: PathLike) -> bool:
    """A NIfTI/MetaImage/NRRD suffix."""
    return file_suffix(path) in VOLUME_SUFFIXES


def writer_for(path: PathLike) -> Callable:
    """The writer of ``path``'s suffix, called as ``writer(path, frames, fps=25.0,
    spacing=None)``: a volume (with the spacing in its header) or an OpenCV video; an
    :class:`EchoDataError` naming the file for any other suffix."""
    suffix = file_suffix(path)
    if suffix in VOLUME_SUFFIXES:
        return write_volume
    check_video_suffix(os.fspath(path))  # an error for a suffix OpenCV is not given
    return write_opencv_video


def media_type(path: PathLike) -> str:
    """The media type to serve a file written by echoseg with (``MEDIA_TYPES``)."""
    return MEDIA_TYPES.get(file_suffix(path), DEFAULT_MEDIA_TYPE)


__all__ = ['reader_for', 'writer_for', 'readable_suffixes', 'is_volume_file', 'media_type',
           'READERS', 'MEDIA_TYPES', 'DICOM_SUFFIXES', 'VOLUME_SUFFIXES', 'IMAGE_SUFFIXES',
           'VIDEO_SUFFIXES', 'WRITE_CODECS']
