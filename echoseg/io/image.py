"""Single images (PNG, JPEG, BMP, TIFF) through OpenCV: a one-frame video, or a 2-D mask."""
from typing import Tuple

import cv2
import numpy as np

from .common import Reader, VideoInfo, bgr_to_gray, screened, to_uint8
from .errors import EchoDataError


def check_labels(arr: np.ndarray, path: str) -> np.ndarray:
    """Integer labels 0..255 as uint8; an error naming ``path`` for anything else."""
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


def _imread(path: str) -> np.ndarray:
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise EchoDataError(f'{path}: unreadable or corrupt image file')
    return img


class ImageReader(Reader):
    """One image as a video of one frame (colour converted to gray), or as a mask."""

    name = 'image'
    suffixes = ('.png', '.bmp', '.jpg', '.jpeg', '.tif', '.tiff')

    def header(self, path: str) -> Tuple[VideoInfo, None]:
        img = _imread(path)
        return VideoInfo(1, None, (int(img.shape[0]), int(img.shape[1]))), None

    def read(self, path: str) -> Tuple[np.ndarray, None]:
        return screened(path, to_uint8(bgr_to_gray(_imread(path)))[None]), None

    def read_mask(self, path: str) -> np.ndarray:
        """(H, W) labels; a colour image is refused unless its channels are equal."""
        img = _imread(path)
        if img.ndim == 3:
            if not all(np.array_equal(img[..., 0], img[..., c]) for c in range(1, img.shape[2])):
                raise EchoDataError(f'{path}: colour mask; expected a single-channel label '
                                    'image')
            img = img[..., 0]
        return check_labels(img, path)
