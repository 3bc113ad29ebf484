"""Geometric clip transforms. Random ones draw once per clip and move every frame alike."""
from typing import Dict, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from echoseg.registry import TRANSFORMS
from echoseg.structures import IGNORE_INDEX

MASK_KEYS = ('masks', 'oracle_masks')


def compose_warp(results: Dict, matrix: np.ndarray) -> None:
    """Record the cumulative 2x3 map from un-augmented to augmented pixel coordinates in
    ``results['warp_matrix']`` (plain nested lists), so modules that keep per-frame memory
    across iterations (e.g. CPR) can undo the augmentation."""
    current = np.eye(3)
    if results.get('warp_matrix') is not None:
        current[:2] = np.asarray(results['warp_matrix'], dtype=np.float64)
    new = np.eye(3)
    new[:2] = matrix
    results['warp_matrix'] = (new @ current)[:2].tolist()


def _resize_stack(stack: np.ndarray, size_hw: Tuple[int, int], interp: int) -> np.ndarray:
    """Resize (T, H, W) frames in one cv2 call per 512 frames (channels-last)."""
    h, w = size_hw
    out = []
    for start in range(0, stack.shape[0], 512):
        chunk = np.ascontiguousarray(stack[start:start + 512].transpose(1, 2, 0))
        res = cv2.resize(chunk, (w, h), interpolation=interp)
        out.append(res.reshape(h, w, -1).transpose(2, 0, 1))
    return np.concatenate(out, axis=0)


def _warp_stack(stack: np.ndarray, matrix: np.ndarray, interp: int,
                border: Union[float, Sequence[float]]) -> np.ndarray:
    h, w = stack.shape[1:3]
    if np.isscalar(border):
        chunk = np.ascontiguousarray(stack.transpose(1, 2, 0))
        res = cv2.warpAffine(chunk, matrix, (w, h), flags=interp,
                             borderMode=cv2.BORDER_CONSTANT, borderValue=float(border))
        return res.reshape(h, w, -1).transpose(2, 0, 1)
    return np.stack([
        cv2.warpAffine(np.ascontiguousarray(f), matrix, (w, h), flags=interp,
                       borderMode=cv2.BORDER_CONSTANT, borderValue=float(b))
        for f, b in zip(stack, border)
    ])


@TRANSFORMS.register_module()
class ResizeClip(BaseTransform):
    """Resize every frame to ``scale`` (H, W): bilinear images, nearest masks.

    Updates ``spacing`` (mm per pixel) by the resize factor of each axis, and records
    ``ori_shape``, ``ori_spacing``, ``img_shape``. With ``keep_ori_masks`` the masks at
    the source resolution are kept as ``ori_masks`` so metrics can compare there.
    """

    def __init__(self, scale: Union[int, Tuple[int, int]], keep_ori_masks: bool = False):
        self.scale = (scale, scale) if isinstance(scale, int) else tuple(scale)
        self.keep_ori_masks = keep_ori_masks

    def transform(self, results: Dict) -> Dict:
        video = results['video']
        h0, w0 = video.shape[1:3]
        h, w = self.scale
        results.setdefault('ori_shape', (h0, w0))
        spacing = results.get('spacing')
        results.setdefault('ori_spacing', None if spacing is None else tuple(spacing))
        if self.keep_ori_masks and results.get('masks') is not None:
            results['ori_masks'] = results['masks'].copy()
        if (h0, w0) != (h, w):
            results['video'] = _resize_stack(video, (h, w), cv2.INTER_LINEAR)
            for key in MASK_KEYS:
                if results.get(key) is not None:
                    results[key] = _resize_stack(results[key], (h, w), cv2.INTER_NEAREST)
            if spacing is not None:
                results['spacing'] = (float(spacing[0]) * h0 / h, float(spacing[1]) * w0 / w)
        results['img_shape'] = (h, w)
        results['scale_factor'] = (w / w0, h / h0)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(scale={self.scale}, ' \
               f'keep_ori_masks={self.keep_ori_masks})'


class _RandomClipTransform(BaseTransform):
    """Applies with probability ``prob``; the random draw is made once per clip."""

    def __init__(self, prob: float = 0.5, seed: Optional[int] = None):
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f'{type(self).__name__}: prob must be in [0, 1], got {prob}')
        self.prob = prob
        # the global numpy generator by default: MMEngine seeds it per dataloader worker,
        # so runs are reproducible and workers do not repeat each other's draws
        self.rng = np.random if seed is None else np.random.default_rng(seed)

    def transform(self, results: Dict) -> Dict:
        if self.rng.random() < self.prob:
            results = self.apply(results)
        return results

    def apply(self, results: Dict) -> Dict:
        raise NotImplementedError


@TRANSFORMS.register_module()
class RandomClipFlip(_RandomClipTransform):
    """Horizontal flip of every frame of the clip."""

    def apply(self, results: Dict) -> Dict:
        results['video'] = np.ascontiguousarray(results['video'][:, :, ::-1])
        for key in MASK_KEYS:
            if results.get(key) is not None:
                results[key] = np.ascontiguousarray(results[key][:, :, ::-1])
        results['flip'] = not results.get('flip', False)
        w = results['video'].shape[2]
        compose_warp(results, np.array([[-1.0, 0.0, w - 1.0], [0.0, 1.0, 0.0]]))
        return results


class _RandomClipAffine(_RandomClipTransform):
    """Shared warp for scale and rotation about the image centre."""

    def warp(self, results: Dict, angle: float, scale: float) -> Dict:
        video = results['video']
        h, w = video.shape[1:3]
        matrix = cv2.getRotationMatrix2D(((w - 1) / 2.0, (h - 1) / 2.0), angle, scale)
        compose_warp(results, matrix)
        results['video'] = _warp_stack(video.astype(np.float32), matrix, cv2.INTER_LINEAR, 0)
        labelled = results.get('labelled')
        for key in MASK_KEYS:
            if results.get(key) is None:
                continue
            if key == 'masks' and labelled is not None:
                # outside the field of view is background on annotated frames, unknown
                # (ignored) on the others
                border = [0 if lab else IGNORE_INDEX for lab in labelled]
            else:
                border = 0
            results[key] = _warp_stack(results[key], matrix, cv2.INTER_NEAREST, border)
        if results.get('spacing') is not None and scale != 1.0:
            results['spacing'] = tuple(float(s) / scale for s in results['spacing'])
        return results


@TRANSFORMS.register_module()
class RandomClipScale(_RandomClipAffine):
    """Zoom in or out about the centre by a factor drawn from ``scale_range``."""

    def __init__(self, prob: float = 0.5, scale_range: Tuple[float, float] = (0.85, 1.15),
                 seed: Optional[int] = None):
        super().__init__(prob, seed)
        self.scale_range = scale_range

    def apply(self, results: Dict) -> Dict:
        scale = float(self.rng.uniform(*self.scale_range))
        results['aug_scale'] = scale
        return self.warp(results, 0.0, scale)


@TRANSFORMS.register_module()
class RandomClipRotation(_RandomClipAffine):
    """Rotate about the centre by an angle (degrees) drawn from ``angle_range``."""

    def __init__(self, prob: float = 0.5, angle_range: Tuple[float, float] = (-15.0, 15.0),
                 seed: Optional[int] = None):
        super().__init__(prob, seed)
        self.angle_range = angle_range

    def apply(self, results: Dict) -> Dict:
        angle = float(self.rng.uniform(*self.angle_range))
        results['aug_angle'] = angle
        return self.warp(results, angle, 1.0)
