"""The video browsers play: VP8 WebM through OpenCV (the mp4v MP4 OpenCV writes does not
play in browsers; VP8 WebM plays in all of them)."""
import os
import os.path as osp
from typing import Optional

#: the suffix of :func:`write_browser_video`'s files
BROWSER_VIDEO_SUFFIX = '.webm'


def write_browser_video(path, frames, fps: float) -> Optional[str]:
    """(N, H, W, 3) BGR frames as a VP8 WebM; returns the path, or None when this OpenCV
    build cannot encode VP8 (the caller then offers the frames as images)."""
    import cv2
    path = os.fspath(path)
    h, w = frames.shape[1:3]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'VP80'), float(fps), (w, h), True)
    if not writer.isOpened():
        return None
    try:
        for frame in frames:
            writer.write(frame)
    finally:
        writer.release()
    if not osp.isfile(path) or osp.getsize(path) == 0:
        return None
    return path
