"""The readers and writers of :mod:`echoseg.io` under their older path (kept for existing
imports; new code imports :mod:`echoseg.io`)."""
from echoseg.io import (DICOM_SUFFIXES, IMAGE_SUFFIXES, STREAMED_VOLUME_SUFFIXES,
                        VOLUME_SUFFIXES, WRITE_CODECS, VideoInfo, file_suffix, is_dicom_file,
                        is_volume_file, iter_frames, read_mask, read_video, read_volume,
                        read_volume_header, video_header, video_info, write_video,
                        write_volume_frames)
from echoseg.io import VIDEO_SUFFIXES as VIDEO_SUFFIXES_READ

__all__ = ['read_video', 'read_volume', 'read_mask', 'read_volume_header', 'video_info',
           'video_header', 'iter_frames', 'write_video', 'write_volume_frames', 'VideoInfo',
           'file_suffix', 'is_volume_file', 'is_dicom_file', 'VIDEO_SUFFIXES_READ',
           'VOLUME_SUFFIXES', 'IMAGE_SUFFIXES', 'DICOM_SUFFIXES', 'WRITE_CODECS',
           'STREAMED_VOLUME_SUFFIXES']
