"""The per-frame probability memory shared by memory-based pseudo-labelers (CPR, DOC).

Entries are keyed ``(str(video_id), source frame index)`` and hold the K - 1 foreground
probability maps of a frame as uint8 (0..254; 255 marks pixels outside the stored field of
view) at ``resolution`` squared, in the *canonical* (un-augmented) frame: maps are warped
back with the clip's geometric augmentation (``clip_affine`` of the metainfo) before they
are stored and forward when read.

A frame that a clip mixer changed (``metainfo['mixed_frames'][t]`` true, set by
``RACMixer``) has no key: its content is not the source frame's, so it is neither read nor
stored.

:func:`memory_state` / :func:`load_memory_state` turn a memory (and per-entry numbers) into
plain tensors and back; :class:`MemoryCheckpointMixin` puts them in the module's state dict
as ``<prefix>memory.<name>`` tensors (every entry of a state dict stays a tensor, as code
that compares checkpoints expects), so checkpoints hold the memory (they load with
``weights_only=True``) and ``--resume`` restores it.
"""
import math
from typing import Dict, Hashable, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

INVALID = 255  # uint8 memory value of pixels outside the stored field of view
MEMORY_KEY = 'memory.'  # state-dict prefix of the memory tensors
Key = Tuple[str, int]


def clip_affine(meta: dict, height: int, width: int) -> Optional[np.ndarray]:
    """3x3 canonical -> augmented pixel transform of a clip, or None for the identity."""
    if meta.get('warp_matrix') is not None:
        m = np.asarray(meta['warp_matrix'], dtype=np.float64)
        if m.shape == (2, 3):
            m = np.vstack([m, [0.0, 0.0, 1.0]])
        return None if np.allclose(m, np.eye(3)) else m
    m = np.eye(3)
    if meta.get('flip'):
        m = np.array([[-1.0, 0.0, width - 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]) @ m
    angle = float(meta.get('aug_angle', 0.0) or 0.0)
    scale = float(meta.get('aug_scale', 1.0) or 1.0)
    if angle != 0.0 or scale != 1.0:
        cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
        a = scale * math.cos(math.radians(angle))
        b = scale * math.sin(math.radians(angle))
        rot = np.array([[a, b, (1 - a) * cx - b * cy], [-b, a, b * cx + (1 - a) * cy],
                        [0.0, 0.0, 1.0]])
        m = rot @ m
    return None if np.allclose(m, np.eye(3)) else m


def warp_maps(maps: Tensor, matrix: np.ndarray) -> Tuple[Tensor, Tensor]:
    """Resample (C, H, W) maps so that out(x) = maps(matrix @ x) in pixel coordinates.

    Returns the warped maps and a (H, W) bool map of the pixels that fell inside.
    """
    _, h, w = maps.shape
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32),
                            torch.arange(w, dtype=torch.float32), indexing='ij')
    m = torch.as_tensor(matrix, dtype=torch.float32)
    sx = m[0, 0] * xs + m[0, 1] * ys + m[0, 2]
    sy = m[1, 0] * xs + m[1, 1] * ys + m[1, 2]
    grid = torch.stack([2 * sx / max(w - 1, 1) - 1, 2 * sy / max(h - 1, 1) - 1], dim=-1)
    grid = grid.to(maps.device, maps.dtype).unsqueeze(0)
    out = F.grid_sample(maps.unsqueeze(0), grid, mode='bilinear', padding_mode='zeros',
                        align_corners=True)[0]
    inside = (sx >= -1e-3) & (sx <= w - 1 + 1e-3) & (sy >= -1e-3) & (sy <= h - 1 + 1e-3)
    return out, inside.to(maps.device)


def memory_key(clip, b: int, t: int) -> Optional[Key]:
    """The memory key of frame t of clip b, or None (no metainfo, or a mixed frame)."""
    if not clip.data_samples:
        return None
    meta = clip.data_samples[b].metainfo
    vid, idx = meta.get('video_id'), meta.get('frame_indices')
    if vid is None or idx is None:
        return None
    mixed = meta.get('mixed_frames')
    if mixed is not None and bool(mixed[t]):
        return None
    return (str(vid), int(idx[t]))


def clip_matrix(clip, b: int, size: Tuple[int, int]) -> Optional[np.ndarray]:
    """Canonical -> current pixel transform of clip b (None: identity)."""
    if not clip.data_samples:
        return None
    return clip_affine(clip.data_samples[b].metainfo, *size)


def encode_probs(probs: Tensor, matrix: Optional[np.ndarray], resolution: int) -> Tensor:
    """(K, H, W) probabilities in the current frame -> (K-1, r, r) uint8, canonical frame."""
    size = tuple(probs.shape[-2:])
    p = probs.float()
    ok = torch.ones(1, *size, device=p.device)
    if matrix is not None:  # canonical(x) = current(M x)
        maps, inside = warp_maps(torch.cat([p, ok], 0), matrix)
        p, ok = maps[:-1], maps[-1:] * inside
    r = resolution
    p = F.interpolate(p[None], size=(r, r), mode='area')[0]
    ok = F.interpolate(ok[None], size=(r, r), mode='area')[0] > 0.99
    q = (p[1:] * 254).round().clamp(0, 254).to(torch.uint8)
    q[:, ~ok[0]] = INVALID
    return q.cpu()


def decode_probs(stored: Tensor, size: Tuple[int, int], inverse: Optional[np.ndarray],
                 dtype: torch.dtype, device) -> Tuple[Tensor, Tensor]:
    """Inverse of :func:`encode_probs`: (K, H, W) probabilities in the current frame and
    the (H, W) bool map of valid pixels. ``inverse``: current -> canonical transform."""
    q = stored.to(device)
    ok = (q[0] != INVALID).to(dtype)[None, None]
    fg = torch.where(q == INVALID, torch.zeros_like(q), q).to(dtype) / 254.0
    fg = F.interpolate(fg[None], size=size, mode='bilinear', align_corners=False)[0]
    ok = F.interpolate(ok, size=size, mode='nearest')[0]
    p = torch.cat([(1 - fg.sum(0, keepdim=True)).clamp_min(0), fg], dim=0)
    p = p / p.sum(0, keepdim=True).clamp_min(1e-6)
    if inverse is not None:  # out(x_current) = stored(M^-1 x_current)
        maps, inside = warp_maps(torch.cat([p, ok], 0), inverse)
        p, ok = maps[:-1], maps[-1:] * inside
    return p, ok[0] > 0.99


def memory_state(memory: Dict[Hashable, Tensor],
                 values: Optional[Dict[str, Dict[Hashable, float]]] = None) -> Dict[str, Tensor]:
    """A memory as plain tensors: ``video_names`` (utf-8 bytes, NUL-separated),
    ``video_index`` and ``frame_index`` (N,), ``maps`` (N, ...) uint8 and one float64 (N,)
    tensor per entry of ``values`` (per-key numbers; missing keys NaN)."""
    keys = list(memory)
    names = sorted({k[0] for k in keys})
    lookup = {n: i for i, n in enumerate(names)}
    state = dict(
        video_names=torch.tensor(list('\0'.join(names).encode('utf-8')), dtype=torch.uint8),
        video_index=torch.tensor([lookup[k[0]] for k in keys], dtype=torch.long),
        frame_index=torch.tensor([int(k[1]) for k in keys], dtype=torch.long),
        maps=torch.stack([memory[k] for k in keys]) if keys else torch.zeros(0, dtype=torch.uint8))
    for name, per_key in (values or {}).items():
        state[f'value_{name}'] = torch.tensor([float(per_key.get(k, math.nan)) for k in keys],
                                              dtype=torch.float64)
    return state


def load_memory_state(state: Dict[str, Tensor]) -> Tuple[Dict[Key, Tensor],
                                                        Dict[str, Dict[Key, float]]]:
    """Inverse of :func:`memory_state`: the memory and the per-key values."""
    raw = bytes(state['video_names'].tolist()).decode('utf-8')
    names = raw.split('\0') if raw else []
    keys = [(names[int(v)], int(f)) for v, f in zip(state['video_index'], state['frame_index'])]
    memory = {k: state['maps'][i].clone() for i, k in enumerate(keys)}
    values = {}
    for name, tensor in state.items():
        if name.startswith('value_'):
            values[name[len('value_'):]] = {k: float(v) for k, v in zip(keys, tensor.tolist())
                                            if not math.isnan(v)}
    return memory, values


class MemoryCheckpointMixin:
    """Saves ``self.memory`` (and :meth:`memory_values`) in the state dict and restores it.

    Put before the ``nn.Module`` base: ``class X(MemoryCheckpointMixin, BaseModule)``.
    """

    def memory_enabled(self) -> bool:
        return True

    def memory_values(self) -> Optional[Dict[str, Dict[Hashable, float]]]:
        """Per-entry numbers saved with the memory (name -> {key: value})."""
        return None

    def restore_memory(self, memory: Dict[Key, Tensor], values: Dict[str, Dict[Key, float]]
                       ) -> None:
        self.memory = memory

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        if self.memory_enabled():
            for name, tensor in memory_state(self.memory, self.memory_values()).items():
                destination[prefix + MEMORY_KEY + name] = tensor

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        start = prefix + MEMORY_KEY
        state = {k[len(start):]: state_dict.pop(k) for k in list(state_dict)
                 if k.startswith(start)}
        if state and self.memory_enabled():  # a labeler without a memory keeps none
            self.restore_memory(*load_memory_state(state))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
