"""``CompressedMasks``: a video's label masks held frame by frame, zlib-compressed.

The masks of a long or large video are the one thing whole-video inference must keep until
the end (the cardiac cycle is only known once every frame is in). At 1024 x 768 they are
0.79 MB per frame as a uint8 array; an LV mask compresses about a hundredfold, so with
this store the memory of :class:`~echoseg.apis.VideoPredictor` (``compress_masks=True``,
what ``tools/infer.py`` uses) stays flat with the video's length. It reads like an
``(N, H, W)`` uint8 array where that matters (``shape``, ``len``, integer and slice
indexing, ``np.asarray``) and is written to disk frame by frame
(:func:`echoseg.io.write_volume_frames`).
"""
import zlib
from typing import Iterable, Iterator, List, Sequence, Tuple

import numpy as np


class CompressedMasks:
    """(N, H, W) uint8 label masks stored as one zlib stream per frame.

    Args:
        frame_shape: (H, W) of every frame.
        level: zlib compression level (1, the default, is fast and already shrinks an LV
            mask about a hundredfold).
    """

    dtype = np.dtype(np.uint8)
    ndim = 3

    def __init__(self, frame_shape: Sequence[int], level: int = 1) -> None:
        if len(frame_shape) != 2:
            raise ValueError(f'frame_shape must be (H, W), got {tuple(frame_shape)}')
        self.frame_shape: Tuple[int, int] = (int(frame_shape[0]), int(frame_shape[1]))
        self.level = int(level)
        self._frames: List[bytes] = []

    @classmethod
    def from_array(cls, masks, level: int = 1) -> 'CompressedMasks':
        masks = np.asarray(masks)
        if masks.ndim != 3:
            raise ValueError(f'masks must be (N, H, W), got shape {masks.shape}')
        out = cls(masks.shape[1:], level)
        out.append(masks)
        return out

    # ------------------------------------------------------------------ writing
    def append(self, masks) -> None:
        """Add (n, H, W) or (H, W) frames (cast to uint8; values must fit)."""
        masks = np.asarray(masks)
        if masks.ndim == 2:
            masks = masks[None]
        if masks.ndim != 3 or tuple(masks.shape[1:]) != self.frame_shape:
            raise ValueError(f'frames of shape {masks.shape} do not match the store\'s '
                             f'frame shape {self.frame_shape}')
        if masks.dtype != np.uint8:
            if masks.size and (masks.min() < 0 or masks.max() > 255):
                raise ValueError('label masks must hold values 0..255')
            masks = masks.astype(np.uint8)
        for frame in masks:
            self._frames.append(zlib.compress(np.ascontiguousarray(frame).tobytes(),
                                              self.level))

    def append_raw(self, data: bytes) -> None:
        """Add one frame already compressed by a store of the same frame shape."""
        self._frames.append(data)

    def raw(self, index: int) -> bytes:
        """The compressed bytes of frame ``index``."""
        return self._frames[index]

    # ------------------------------------------------------------------ reading
    @property
    def shape(self) -> Tuple[int, int, int]:
        return (len(self._frames), ) + self.frame_shape

    @property
    def nbytes(self) -> int:
        """Bytes of the uncompressed array."""
        return len(self._frames) * self.frame_shape[0] * self.frame_shape[1]

    @property
    def compressed_nbytes(self) -> int:
        return sum(len(f) for f in self._frames)

    def __len__(self) -> int:
        return len(self._frames)

    def _frame(self, data: bytes) -> np.ndarray:
        return np.frombuffer(zlib.decompress(data), np.uint8).reshape(self.frame_shape).copy()

    def __getitem__(self, index):
        """An int gives one (H, W) frame, a slice an (n, H, W) array (copies)."""
        if isinstance(index, slice):
            frames = self._frames[index]
            out = np.empty((len(frames), ) + self.frame_shape, np.uint8)
            for k, data in enumerate(frames):
                out[k] = np.frombuffer(zlib.decompress(data), np.uint8).reshape(
                    self.frame_shape)
            return out
        if isinstance(index, (int, np.integer)):
            return self._frame(self._frames[index])
        raise TypeError('CompressedMasks supports int and slice indices; use np.asarray() '
                        'for anything else')

    def __iter__(self) -> Iterator[np.ndarray]:
        for data in self._frames:
            yield self._frame(data)

    def iter_blocks(self, size: int) -> Iterable[np.ndarray]:
        """(n <= size, H, W) arrays in order."""
        for i in range(0, len(self), size):
            yield self[i:i + size]

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        arr = self[:]
        return arr if dtype is None else arr.astype(dtype, copy=False)

    def __eq__(self, other):
        return np.asarray(self) == other

    __hash__ = None

    def __repr__(self) -> str:
        return (f'CompressedMasks(shape={self.shape}, compressed {self.compressed_nbytes} '
                f'of {self.nbytes} bytes)')
