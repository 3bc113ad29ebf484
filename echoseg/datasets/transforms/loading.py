"""Loading transforms: a video and its masks into the results dict (clip contract §2)."""
from typing import Dict, Optional

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from echoseg.io import is_volume_file, read_mask, read_video, read_volume
from echoseg.registry import TRANSFORMS
from echoseg.structures import IGNORE_INDEX
from ..errors import EchoDataError


def _case(results: Dict) -> str:
    return str(results.get('video_path') or results.get('video_id') or '<in-memory clip>')


def fill_polygon(poly, shape) -> np.ndarray:
    """(K, 2) polygon of (x, y) pixel coordinates -> its (H, W) uint8 mask as the loader
    draws a tracing: vertices rounded to the pixel grid, ``cv2.fillPoly`` (every pixel the
    outline touches is inside)."""
    canvas = np.zeros(tuple(int(v) for v in shape), dtype=np.uint8)
    pts = np.round(np.asarray(poly, dtype=np.float64)).astype(np.int32)
    cv2.fillPoly(canvas, [pts.reshape(-1, 1, 2)], 1)
    return canvas


def apply_label_map(mask: np.ndarray, label_map: Optional[Dict[int, int]]) -> np.ndarray:
    """Map raw labels to training labels; unmapped labels become 0, ignore stays ignore."""
    if label_map is None:
        return mask
    out = np.zeros_like(mask)
    for raw, new in label_map.items():
        out[mask == int(raw)] = int(new)
    out[mask == IGNORE_INDEX] = IGNORE_INDEX
    return out


@TRANSFORMS.register_module()
class LoadEchoVideo(BaseTransform):
    """Read ``video_path`` (AVI/MP4 or NIfTI/MHD) into ``video`` (N, H, W) uint8.

    A ``video`` array already in the results (synthetic data) is validated and kept.
    Adds ``ori_video_shape`` = (N, H, W) and, for medical-image files without a spacing in
    the data info, the header spacing.
    """

    def transform(self, results: Dict) -> Dict:
        if results.get('video') is None:
            path = results.get('video_path')
            if path is None:
                raise EchoDataError(f'{_case(results)}: data info has neither `video` nor '
                                    '`video_path`')
            if is_volume_file(path):
                video, spacing = read_volume(path)
                if results.get('spacing') is None and spacing is not None:
                    results['spacing'] = tuple(float(s) for s in spacing)
            else:
                video = read_video(path)
            results['video'] = video
        video = np.asarray(results['video'])
        if video.ndim == 2:
            video = video[None]
        if video.ndim != 3 or video.shape[0] == 0:
            raise EchoDataError(f'{_case(results)}: expected a (frames, H, W) video, '
                                f'got shape {video.shape}')
        results['video'] = video
        results['ori_video_shape'] = tuple(video.shape)
        return results


@TRANSFORMS.register_module()
class LoadEchoAnnotations(BaseTransform):
    """Gather the masks of a video into ``masks`` (N, H, W) uint8 and ``labelled`` (N,).

    Accepts the mask forms of the clip contract (``masks``, ``mask_path``,
    ``frame_mask_paths``, ``polygons``). Frames without a mask hold ``IGNORE_INDEX``.
    A video without any annotation gets an all-ignore mask (inference on new videos).
    """

    def transform(self, results: Dict) -> Dict:
        video = results['video']
        n, h, w = video.shape[:3]
        masks = np.full((n, h, w), IGNORE_INDEX, dtype=np.uint8)
        labelled = np.zeros(n, dtype=bool)
        case = _case(results)

        def put(frame: int, mask: np.ndarray, source: str) -> None:
            if not 0 <= frame < n:
                raise EchoDataError(f'{source}: annotated frame {frame} is outside the video '
                                    f'{case} ({n} frames)')
            if mask.shape != (h, w):
                raise EchoDataError(f'{source}: mask shape {mask.shape} does not match the '
                                    f'image shape {(h, w)} of {case}')
            masks[frame] = mask
            labelled[frame] = True

        frames = results.get('labelled_frames')
        if results.get('masks') is not None or results.get('mask_path') is not None:
            if results.get('masks') is not None:
                volume, source = np.asarray(results['masks']), f'{case} (masks)'
            else:
                source = results['mask_path']
                volume = read_mask(source)
            if volume.ndim == 2:
                volume = volume[None]
            if volume.shape[0] != n:
                raise EchoDataError(f'{source}: {volume.shape[0]} mask frames for a video of '
                                    f'{n} frames ({case})')
            for f in (range(n) if frames is None else frames):
                put(int(f), volume[int(f)].astype(np.uint8), source)
        for f, path in (results.get('frame_mask_paths') or {}).items():
            mask = read_mask(path)
            put(int(f), (mask[0] if mask.ndim == 3 else mask).astype(np.uint8), path)
        for f, poly in (results.get('polygons') or {}).items():
            put(int(f), fill_polygon(poly, (h, w)), f'{case} (tracing of frame {f})')

        masks = apply_label_map(masks, results.get('label_map'))
        results['masks'] = masks
        results['labelled'] = labelled
        if results.get('oracle_masks') is not None:
            results['oracle_masks'] = np.asarray(results['oracle_masks'], dtype=np.uint8)
        return results
