"""MSSNet's Spatiotemporal Synergistic Guidance (SSG), as a temporal neck on Mamba scans.

MSSNet (Chen et al., IEEE TMI 2026) calls SSG a Mamba-based module "that leverages attention
weights from historical frames to guide subsequent segmentation ... modeling inter-frame
dependencies through weight propagation". The public SSG.py (no Mamba code) nudges each
frame's attention logits by the previous frame's inside triplets of frames. Here the
same idea is built on a selective state-space layer (:class:`MambaLayer`), whose
input-dependent step delta plays the part of the attention weights (Mamba's implicit
attention from token s to token t is C_t (prod exp(delta A)) delta_s B_s):

For one level X (B*T, C, h, w) of T-frame clips:

    S = W_in X                                   (1x1, C -> E; identity when E = C)
    for every scan order o in ``scan_orders``:   (tokens (n, L, E))
        'spatial'  : each frame's h*w tokens, row-major (L = h*w)
        'temporal' : each position's T tokens, frame order (L = T)
        'joint'    : the clip's T*h*w tokens, frame after frame (L = T*h*w)
        S = S + sum_dir Mamba_o,dir(LN_o(S))     (dir: forward, and reversed when
                                                  ``bidirectional``; pre-norm residual)
    out = X + W_out LN(S)                        (W_out 1x1 E -> C, zero at init: the neck
                                                  starts as the identity)

Weight propagation (``propagation`` = alpha; 'spatial' and 'joint' orders): the raw steps
delta (before bias and softplus) of frame t at every position and channel are steered by
the earlier frames' propagated steps, g_t = delta_t + alpha g_{t-1} (g_0 = delta_0), as the
public code adds alpha times the previous frame's attention logits; alpha = 0.5, the
public value. 'temporal' scans carry time in their own state and are not propagated. A
reversed 'spatial' scan keeps the frame order of the propagation; a reversed 'joint' scan
runs back in time, and its propagation with it.
"""
from typing import List, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

from echoseg.registry import MODELS
from ..layers.mamba import MambaLayer
from ..layers.selective_scan import linear_recurrence
from ..utils import ClipContext

SCAN_ORDERS = ('spatial', 'temporal', 'joint')


class SpatiotemporalGuidance(nn.Module):
    """SSG on one feature level; see the module docstring."""

    def __init__(self, channels: int, embed_dims: Optional[int] = None,
                 scan_orders: Sequence[str] = ('spatial', 'temporal'),
                 bidirectional: bool = True, propagation: float = 0.5, d_state: int = 16,
                 d_conv: int = 4, expand: float = 2, backend: str = 'auto'):
        super().__init__()
        for order in scan_orders:
            if order not in SCAN_ORDERS:
                raise ValueError(f'SSG: scan order must be one of {SCAN_ORDERS}, got {order!r}')
        if not scan_orders:
            raise ValueError('SSG: give at least one scan order')
        embed = embed_dims or channels
        self.scan_orders = tuple(scan_orders)
        self.directions = ('forward', 'backward') if bidirectional else ('forward', )
        self.propagation = float(propagation)
        self.proj_in = nn.Conv2d(channels, embed, 1) if embed != channels else nn.Identity()
        self.norms = nn.ModuleList(nn.LayerNorm(embed) for _ in self.scan_orders)
        self.scans = nn.ModuleList(
            nn.ModuleList(MambaLayer(embed, d_state=d_state, d_conv=d_conv, expand=expand,
                                     backend=backend) for _ in self.directions)
            for _ in self.scan_orders)
        self.norm_out = nn.LayerNorm(embed)
        self.proj_out = nn.Conv2d(embed, channels, 1)
        nn.init.zeros_(self.proj_out.weight)
        nn.init.zeros_(self.proj_out.bias)

    def propagate(self, steps: Tensor, num_frames: int, frame_major_tokens: bool) -> Tensor:
        """g_t = delta_t + alpha g_{t-1} over the frames of each clip.

        ``steps``: (n, D, L); spatial order: n = B*T sequences of one frame each; joint
        order (``frame_major_tokens``): n = B sequences of T*hw tokens.
        """
        if self.propagation == 0.0 or num_frames < 2:
            return steps
        n, d, length = steps.shape
        if frame_major_tokens:  # (B, D, T*hw) -> (B, T, D, hw)
            per_frame = steps.reshape(n, d, num_frames, -1).transpose(1, 2)
        else:  # (B*T, D, hw) -> (B, T, D, hw)
            per_frame = steps.reshape(-1, num_frames, d, length)
        alpha = per_frame.new_full((1, ) * per_frame.dim(), self.propagation)
        guided = linear_recurrence(alpha, per_frame, dim=1)
        if frame_major_tokens:
            return guided.transpose(1, 2).reshape(n, d, length)
        return guided.reshape(n, d, length)

    def _tokens(self, s: Tensor, order: str) -> Tensor:
        """(B, T, h, w, E) -> (n, L, E) sequences of one scan order."""
        b, t, h, w, e = s.shape
        if order == 'spatial':
            return s.reshape(b * t, h * w, e)
        if order == 'temporal':
            return s.permute(0, 2, 3, 1, 4).reshape(b * h * w, t, e)
        return s.reshape(b, t * h * w, e)

    @staticmethod
    def _untokens(x: Tensor, order: str, shape) -> Tensor:
        b, t, h, w, e = shape
        if order == 'temporal':
            return x.reshape(b, h, w, t, e).permute(0, 3, 1, 2, 4)
        return x.reshape(b, t, h, w, e)

    def forward(self, x: Tensor, num_frames: int) -> Tensor:
        n, _, h, w = x.shape
        s = self.proj_in(x)
        s = s.reshape(n // num_frames, num_frames, -1, h, w).permute(0, 1, 3, 4, 2)
        for order, norm, layers in zip(self.scan_orders, self.norms, self.scans):
            tokens = self._tokens(norm(s), order)
            guidance = None
            if order != 'temporal':
                # a reversed 'spatial' sequence keeps its frames in order; a reversed
                # 'joint' one runs back in time, and so does its propagation
                def guidance(steps, joint=order == 'joint'):
                    return self.propagate(steps, num_frames, joint)
            update = 0
            for direction, layer in zip(self.directions, layers):
                if direction == 'forward':
                    update = update + layer(tokens, guidance)
                else:
                    update = update + layer(tokens.flip(1), guidance).flip(1)
            s = s + self._untokens(update, order, s.shape)
        s = self.norm_out(s).permute(0, 1, 4, 2, 3).reshape(n, -1, h, w)
        return x + self.proj_out(s)


@MODELS.register_module()
class SSGNeck(BaseModule):
    """Spatiotemporal Synergistic Guidance neck of MSSNet (Mamba scans with weight
    propagation across frames); see the module docstring.

    A temporal module (``temporal = True``): the segmentor passes the ``ClipContext`` to
    learn T. The levels in ``in_index`` are guided (one independent block each, any mmseg
    backbone level); the others pass through; channels are unchanged.

    Args:
        in_channels: channels of every backbone level (list), or of the guided level(s).
        in_index: level(s) to guide; default the last.
        embed_dims: width E of the scans (None: the level's channels).
        scan_orders: any of ``'spatial'``, ``'temporal'``, ``'joint'``, applied in order.
        bidirectional: every scan also runs on the reversed sequence (own parameters).
        propagation: alpha of the weight propagation (0 disables it).
        d_state, d_conv, expand: of every :class:`MambaLayer`.
        backend: of the selective scan (``'auto'``: CUDA kernel when available).
    """

    temporal = True

    def __init__(self, in_channels: Union[int, Sequence[int]],
                 in_index: Union[int, Sequence[int]] = -1, embed_dims: Optional[int] = None,
                 scan_orders: Sequence[str] = ('spatial', 'temporal'),
                 bidirectional: bool = True, propagation: float = 0.5, d_state: int = 16,
                 d_conv: int = 4, expand: float = 2, backend: str = 'auto', init_cfg=None):
        super().__init__(init_cfg)
        self.in_index: List[int] = [in_index] if isinstance(in_index, int) else list(in_index)
        self.in_channels = in_channels
        self.ssg = nn.ModuleDict()
        for idx in self.in_index:
            channels = in_channels if isinstance(in_channels, int) else in_channels[idx]
            self.ssg[str(idx)] = SpatiotemporalGuidance(
                channels, embed_dims=None if embed_dims is None else min(embed_dims, channels),
                scan_orders=scan_orders, bidirectional=bidirectional, propagation=propagation,
                d_state=d_state, d_conv=d_conv, expand=expand, backend=backend)

    def forward(self, inputs: Union[Tensor, Sequence[Tensor]],
                clip: Optional[ClipContext] = None) -> Tuple[Tensor, ...]:
        feats = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        num_frames = clip.num_frames if clip is not None else 1  # no clip: single frames
        for idx in self.in_index:
            pos = idx % len(feats)
            feats[pos] = self.ssg[str(idx)](feats[pos], num_frames)
        return tuple(feats)
