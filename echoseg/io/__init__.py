"""Reading and writing media: one reader per format, one writer per output kind, and one
suffix registry that picks them (:mod:`echoseg.io.registry`).

- :mod:`.api`: ``read_video``, ``read_volume``, ``read_mask``, ``video_info``,
  ``video_header``, ``iter_frames``, ``write_video``: any format through its reader/writer.
- readers: :class:`~.video.VideoReader` (OpenCV), :class:`~.volume.VolumeReader`
  (SimpleITK), :class:`~.dicom.DicomReader` (pydicom), :class:`~.image.ImageReader`.
- writers: :func:`~.video.write_opencv_video` (MP4/AVI), :func:`~.volume.write_volume` and
  :func:`~.volume.write_volume_frames` (one frame at a time),
  :func:`~.browser_video.write_browser_video` (VP8 WebM for the web viewer).
- :mod:`.registry`: ``reader_for(path)``, ``writer_for(path)``, ``readable_suffixes()``,
  ``media_type(path)``.

Every reader and writer raises :class:`EchoDataError` naming the file and the problem.
"""
from .api import (iter_frames, read_mask, read_video, read_volume, video_header, video_info,
                  write_video)
from .browser_video import write_browser_video
from .common import VideoInfo, file_suffix
from .dicom import dicom_header, is_dicom_file, iter_dicom_frames, read_dicom
from .errors import EchoDataError
from .registry import (DICOM_SUFFIXES, IMAGE_SUFFIXES, MEDIA_TYPES, READERS, VIDEO_SUFFIXES,
                       VOLUME_SUFFIXES, WRITE_CODECS, is_volume_file, media_type,
                       readable_suffixes, reader_for, writer_for)
from .video import write_opencv_video
from .volume import (STREAMED_VOLUME_SUFFIXES, read_volume_header, write_volume,
                     write_volume_frames)

__all__ = [
    'read_video', 'read_volume', 'read_mask', 'read_volume_header', 'video_info',
    'video_header', 'iter_frames', 'write_video', 'write_opencv_video', 'write_volume',
    'write_volume_frames', 'write_browser_video', 'reader_for', 'writer_for',
    'readable_suffixes', 'media_type', 'is_volume_file', 'is_dicom_file', 'file_suffix',
    'dicom_header', 'iter_dicom_frames', 'read_dicom', 'VideoInfo', 'EchoDataError',
    'READERS', 'MEDIA_TYPES', 'DICOM_SUFFIXES', 'IMAGE_SUFFIXES', 'VIDEO_SUFFIXES',
    'VOLUME_SUFFIXES', 'WRITE_CODECS', 'STREAMED_VOLUME_SUFFIXES'
]
