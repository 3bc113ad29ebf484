"""SAP and TAP of MSSNet's public ``SSG.py`` (SSS666-klk/MSSNet@aa8b95b) as a temporal neck.

For one level X (B*T, C, h, w) of T-frame clips (the public model: the stride-8,
256-channel map of :class:`~echoseg.models.backbones.SSGEncoder`):

1. tokens: each frame's h*w pixels (row-major), ``Linear(C, E)`` plus a learned position
   embedding of ``grid_size`` (the public 32 x 32; another grid gets it bicubically
   resized, ours);
2. SAP (``SAP_Block``): for every window of 3 consecutive frames (t-1, t, t+1) one
   pre-norm multi-head attention over its 3*h*w tokens in which the attention logits of
   a frame's queries get ``alpha`` times the (already propagated) logits of the previous
   frame's queries at the same positions ("weight propagation", alpha = 0.5), then a
   pre-norm GELU MLP; no output projection (the public forward defines one and never
   applies it); then ``LayerNorm``; every frame is the mean of its outputs over the
   windows that hold it;
3. TAP (``TAP_Block``): per window, the middle frame's mean token attends (one head) to
   its two neighbours' (no norm before it, no output projection: as the public forward),
   plus a pre-norm MLP; frame t takes the window centred on it (the first and last frame
   the nearest window's);
4. output: the SAP features times that per-frame temporal vector, back to (B*T, E, h, w).

The propagation is linear in the queries: logits of frame f + alpha * (propagated logits
of frame f-1) = (q_f + alpha q'_{f-1}) k^T, so it is computed as a recurrence on the
queries and one ``scaled_dot_product_attention`` (no 3hw x 3hw map is stored; equal to
the public arithmetic up to rounding, checked by ``tools/analysis/
check_against_reference.py mssnet``).

Generalised beyond the public file (which hard-codes T = 10, one clip and 32 x 32): any
number of clips, any T (clips shorter than 3 frames are padded by repeating their last
frame), any grid.
"""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from echoseg.registry import MODELS
from ..utils import ClipContext

WINDOW = 3  # frames per SAP / TAP window (the public triplets)


def _mlp(dim: int, hidden: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))


class PropagatedAttentionBlock(nn.Module):
    """SAP: pre-norm attention over the tokens of ``frames`` frames with the attention
    logits propagated from frame to frame, then a pre-norm MLP."""

    def __init__(self, dim: int, num_heads: int = 8, mlp_ratio: float = 2.0,
                 alpha: float = 0.5):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'SAP: embed dims {dim} not divisible by num_heads {num_heads}')
        self.num_heads, self.alpha = num_heads, float(alpha)
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, dim * 3)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = _mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: Tensor, frames: int) -> Tensor:
        """x: (n, frames*L, C), frame-major tokens -> the same shape."""
        n, length, c = x.shape
        heads = self.num_heads
        qkv = self.qkv(self.norm1(x)).view(n, length, 3, heads, c // heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)               # (n, heads, frames*L, c/heads)
        per_frame = list(q.view(n, heads, frames, length // frames, -1).unbind(2))
        for f in range(1, frames):                         # q'_f = q_f + alpha q'_{f-1}
            per_frame[f] = per_frame[f] + self.alpha * per_frame[f - 1]
        q = torch.stack(per_frame, 2).view_as(k)
        out = F.scaled_dot_product_attention(q, k, v)      # scale (c/heads)^-0.5
        x = x + out.transpose(1, 2).reshape(n, length, c)
        return x + self.mlp(self.norm2(x))


class NeighbourGateBlock(nn.Module):
    """TAP: the middle token of a window attends to its two neighbours, then an MLP."""

    def __init__(self, dim: int, mlp_ratio: float = 2.0):
        super().__init__()
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, dim * 2)
        self.norm = nn.LayerNorm(dim)
        self.mlp = _mlp(dim, int(dim * mlp_ratio))

    def forward(self, tokens: Tensor) -> Tensor:
        """tokens: (n, 3, C) (previous, middle, next) -> (n, C)."""
        mid = tokens[:, 1:2]
        k, v = self.kv(tokens[:, 0::2]).chunk(2, dim=-1)
        attn = (self.q(mid) @ k.transpose(1, 2) * tokens.shape[-1] ** -0.5).softmax(-1)
        x = mid + attn @ v
        return (x + self.mlp(self.norm(x))).squeeze(1)


@MODELS.register_module()
class SAPTAPNeck(BaseModule):
    """MSSNet's public SSG attention (SAP + TAP) on one level; see the module docstring.

    A temporal module (``temporal = True``). The level ``in_index`` is replaced by the
    (B*T, ``embed_dims``, h, w) result; the other levels pass through.

    Args:
        in_channels: channels of the level (the public 256), or a list of every level's.
        embed_dims: E (the public ``embed_dim_ratio`` 32).
        in_index: the level (default the last).
        grid_size: (h, w) of the learned position embedding (the public 32 x 32).
        num_heads: SAP heads (8); mlp_ratio: hidden / E of both MLPs (2).
        alpha: the propagation factor (0.5).
    """

    temporal = True

    def __init__(self, in_channels: Union[int, Sequence[int]] = 256, embed_dims: int = 32,
                 in_index: int = -1, grid_size: Sequence[int] = (32, 32), num_heads: int = 8,
                 mlp_ratio: float = 2.0, alpha: float = 0.5, init_cfg=None):
        super().__init__(init_cfg)
        if not isinstance(in_channels, int):  # every level's channels
            in_channels = list(in_channels)[in_index]
        self.in_index = in_index
        self.grid_size = tuple(int(g) for g in grid_size)
        self.embed = nn.Linear(in_channels, embed_dims)
        self.pos_embed = nn.Parameter(torch.zeros(1, self.grid_size[0] * self.grid_size[1],
                                                  embed_dims))
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        self.sap = PropagatedAttentionBlock(embed_dims, num_heads, mlp_ratio, alpha)
        self.norm = nn.LayerNorm(embed_dims)
        self.tap = NeighbourGateBlock(embed_dims, mlp_ratio)

    def _pos(self, h: int, w: int) -> Tensor:
        """(1, h*w, E) position embedding, resized bicubically for another grid."""
        if (h, w) == self.grid_size:
            return self.pos_embed
        grid = self.pos_embed.view(1, *self.grid_size, -1).permute(0, 3, 1, 2)
        grid = F.interpolate(grid, size=(h, w), mode='bicubic', align_corners=False)
        return grid.flatten(2).transpose(1, 2)

    def guide(self, x: Tensor, num_frames: int) -> Tensor:
        """(B*T, C, h, w) -> (B*T, E, h, w)."""
        n, _, h, w = x.shape
        b, t = n // num_frames, num_frames
        tokens = self.embed(x.flatten(2).transpose(1, 2)) + self._pos(h, w)
        e, hw = tokens.shape[-1], h * w
        tokens = tokens.view(b, t, hw, e)
        tp = max(t, WINDOW)                                   # pad short clips (ours)
        if tp > t:
            tokens = torch.cat([tokens, tokens[:, -1:].expand(b, tp - t, hw, e)], 1)
        nw = tp - WINDOW + 1                                  # windows per clip
        windows = torch.stack([tokens[:, j:j + WINDOW] for j in range(nw)], 1)
        sap = self.norm(self.sap(windows.view(b * nw, WINDOW * hw, e), WINDOW))
        sap = sap.view(b, nw, WINDOW, hw, e)
        summed = tokens.new_zeros(b, tp, hw, e)
        count = tokens.new_zeros(tp)
        for o in range(WINDOW):                               # frame j + o of window j
            summed[:, o:o + nw] += sap[:, :, o]
            count[o:o + nw] += 1
        spatial = summed / count.view(1, tp, 1, 1)
        pooled = spatial.mean(2)                              # (b, tp, e)
        gates = self.tap(torch.stack([pooled[:, j:j + WINDOW] for j in range(nw)], 1)
                         .view(b * nw, WINDOW, e)).view(b, nw, e)
        centre = torch.arange(tp, device=x.device).sub(1).clamp(0, nw - 1)
        out = spatial * gates[:, centre].unsqueeze(2)         # (b, tp, hw, e)
        return out[:, :t].reshape(n, h, w, e).permute(0, 3, 1, 2).contiguous()

    def forward(self, inputs: Union[Tensor, Sequence[Tensor]],
                clip: Optional[ClipContext] = None) -> Tuple[Tensor, ...]:
        feats: List[Tensor] = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        num_frames = clip.num_frames if clip is not None else 1  # no clip: single frames
        pos = self.in_index % len(feats)
        feats[pos] = self.guide(feats[pos], num_frames)
        return tuple(feats)
