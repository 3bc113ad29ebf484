"""Blocked 3-D neighbourhood attention in plain PyTorch (NCM-Net's NCM, see
docs/methods/ncmnet.md).

Every query at (t, h, w) attends to the keys of a (k_t, k_h, k_w) window around it.

**Windows at the borders (NATTEN's definition, which the authors' code uses).** Along an
axis of length L with kernel k, the window of position i is ``[s(i), s(i) + k')`` with
``k' = min(k, L)`` and ``s(i) = clamp(i - k // 2, 0, L - k')``: centred inside the clip,
shifted inwards at the clip's first/last frame and the image border, so every query sees
exactly k' positions per axis (no zero padding, no position counted twice). An axis
shorter than its kernel is covered whole (e.g. 7 frames of a 10-frame clip; a 5-frame clip
with k_t = 7: all 5).

**Blocked computation, memory linear in T*H*W.** The queries are cut into blocks of
``block_size`` positions per axis; the union of the windows of a block lies in a halo of
``b + k' - 1`` positions per axis, so each block attends densely to its halo (a
``(b_t b_h b_w) x halo`` score matrix) with the keys outside each query's own window masked
out. The cost per query is the halo (e.g. 10^3 keys for b = 4, k = 7), never T*H*W; no
(THW x THW) matrix is formed. The blocks are processed in a loop over the (t, h) block rows
(vectorised over w), so inference holds the scores of one row at a time; with
``checkpoint`` a training step keeps only q, k, v and recomputes each row's gathered halo
and scores in the backward pass.

A learned relative position bias (one per head and window offset, ``(2k_t - 1)(2k_h -
1)(2k_w - 1)`` entries, NATTEN's ``rpb``) is added to the scores when given.
"""
import math
from typing import List, Optional, Sequence

import torch
import torch.utils.checkpoint
from torch import Tensor, nn


def window_starts(length: int, kernel: int, device=None) -> Tensor:
    """(length,) first position of each position's window (module docstring)."""
    k = min(kernel, length)
    i = torch.arange(length, device=device)
    return (i - kernel // 2).clamp(0, length - k)


class _AxisPlan:
    """Query blocks, halo indices, validity and relative offsets along one axis.

    ``len_q == len_k`` (self-attention), or a kernel covering the whole key axis (queries
    of another length, e.g. one scale attending to all scales).
    """

    def __init__(self, len_q: int, len_k: int, kernel: int, block: int, device):
        if len_q != len_k and kernel < len_k:
            raise ValueError(f'neighbourhood attention: {len_q} query and {len_k} key positions '
                             f'need a kernel covering the key axis, got {kernel}')
        k = min(kernel, len_k)
        b = max(1, min(block, len_q))
        self.num_blocks = math.ceil(len_q / b)
        self.block = b
        self.len_q = len_q
        halo = min(b + k - 1, len_k)
        pos = torch.arange(self.num_blocks * b, device=device).view(self.num_blocks, b)
        self.query = pos.clamp(max=len_q - 1)                        # (n, b) gather indices
        if len_q == len_k:
            start = window_starts(len_q, kernel, device)[self.query]  # (n, b)
        else:
            start = torch.zeros_like(self.query)
        halo_start = start[:, 0].clamp(max=len_k - halo)              # (n,)
        self.key = halo_start[:, None] + torch.arange(halo, device=device)  # (n, halo)
        key = self.key[:, None, :]
        self.valid = (key >= start[..., None]) & (key < start[..., None] + k)  # (n, b, halo)
        # offset key - query in [-(kernel - 1), kernel - 1] where valid
        self.offset = (key - self.query[..., None] + kernel - 1).clamp(0, 2 * kernel - 2)

    def rows(self, n: int) -> int:
        """Positions of block n that lie inside the axis (the last block may be padded)."""
        return min(self.block, self.len_q - n * self.block)


def _block_row(q: Tensor, k: Tensor, v: Tensor, table: Optional[Tensor], qt: Tensor,
               qh: Tensor, kt: Tensor, kh: Tensor, valid: Tensor, idx: Optional[Tensor],
               pw: _AxisPlan, w: int) -> Tensor:
    """Attention of one (t, h) row of query blocks, vectorised over the w blocks.

    qt, qh / kt, kh: query / halo positions of the row along t and h; valid, idx: (nw, bq,
    halo) window mask and position-bias index. Returns (N, heads, bt, bh, W, d).
    """
    n, heads, d = q.shape[0], q.shape[1], q.shape[-1]
    nw, bw, hw = pw.num_blocks, pw.block, pw.key.shape[1]
    qb = q[:, :, qt][:, :, :, qh][:, :, :, :, pw.query.reshape(-1)]     # (N, H', bt, bh, ., d)
    bt, bh = qb.shape[2:4]
    qb = qb.view(n, heads, bt, bh, nw, bw, d).permute(0, 1, 4, 2, 3, 5, 6)
    qb = qb.reshape(n, heads, nw, bt * bh * bw, d)
    kv = []
    for x in (k, v):
        x = x[:, :, kt][:, :, :, kh][:, :, :, :, pw.key.reshape(-1)]
        x = x.view(n, heads, kt.numel(), kh.numel(), nw, hw, d).permute(0, 1, 4, 2, 3, 5, 6)
        kv.append(x.reshape(n, heads, nw, -1, d))
    scores = qb @ kv[0].transpose(-1, -2)                                 # (N, H', nw, bq, halo)
    if table is not None:
        scores = scores + table[:, idx].unsqueeze(0)
    scores = scores.masked_fill(~valid, float('-inf'))
    out = scores.softmax(dim=-1) @ kv[1]                                  # (N, H', nw, bq, d)
    out = out.view(n, heads, nw, bt, bh, bw, d).permute(0, 1, 3, 4, 2, 5, 6)
    return out.reshape(n, heads, bt, bh, nw * bw, d)[:, :, :, :, :w]


def neighbourhood_attention(q: Tensor, k: Tensor, v: Tensor, kernel_size: Sequence[int],
                            block_size: Optional[Sequence[int]] = None,
                            rpb: Optional[Tensor] = None, checkpoint: bool = False) -> Tensor:
    """Blocked neighbourhood attention.

    Args:
        q: (N, heads, Tq, H, W, d) queries, already scaled.
        k, v: (N, heads, T, H, W, d) keys and values (Tq == T, or ``kernel_size[0] >= T``).
        kernel_size: (k_t, k_h, k_w) window.
        block_size: (b_t, b_h, b_w) query block; default ceil(k / 2) per axis.
        rpb: (heads, 2k_t - 1, 2k_h - 1, 2k_w - 1) relative position bias, or None.
        checkpoint: with gradients, recompute each block row in the backward pass instead
            of keeping its gathered halo keys/values and scores (training memory: q, k, v
            and one row's temporaries).

    Returns:
        (N, heads, Tq, H, W, d).
    """
    n, heads, tq, h, w, d = q.shape
    t = k.shape[2]
    kernel = [int(x) for x in kernel_size]
    if block_size is None:
        block_size = [max(1, (x + 1) // 2) for x in kernel]
    dev = q.device
    pt = _AxisPlan(tq, t, kernel[0], block_size[0], dev)
    ph = _AxisPlan(h, h, kernel[1], block_size[1], dev)
    pw = _AxisPlan(w, w, kernel[2], block_size[2], dev)
    table = None if rpb is None else rpb.reshape(heads, -1)
    sizes = [2 * x - 1 for x in kernel]
    recompute = checkpoint and torch.is_grad_enabled() and any(
        x is not None and x.requires_grad for x in (q, k, v, rpb))
    rows_t: List[Tensor] = []
    for it in range(pt.num_blocks):
        rows_h: List[Tensor] = []
        for ih in range(ph.num_blocks):
            # (nw, bt, bh, bw, ht, hh, hw): each (query, halo key) pair of the row
            valid = (pt.valid[it][None, :, None, None, :, None, None]
                     & ph.valid[ih][None, None, :, None, None, :, None]
                     & pw.valid[:, None, None, :, None, None, :])
            valid = valid.reshape(pw.num_blocks, pt.block * ph.block * pw.block, -1)
            idx = None
            if table is not None:
                idx = ((pt.offset[it][None, :, None, None, :, None, None] * sizes[1]
                        + ph.offset[ih][None, None, :, None, None, :, None]) * sizes[2]
                       + pw.offset[:, None, None, :, None, None, :]).reshape(valid.shape)
            args = (q, k, v, table, pt.query[it], ph.query[ih], pt.key[it], ph.key[ih],
                    valid, idx, pw, w)
            if recompute:
                out = torch.utils.checkpoint.checkpoint(_block_row, *args, use_reentrant=False)
            else:
                out = _block_row(*args)
            rows_h.append(out[:, :, :, :ph.rows(ih)])
        rows_t.append(torch.cat(rows_h, dim=3)[:, :, :pt.rows(it)])
    return torch.cat(rows_t, dim=2)


class NeighbourhoodAttention3d(nn.Module):
    """Multi-head 3-D neighbourhood attention on channels-last maps (N, T, H, W, C).

    ``forward(x)`` is self-attention; ``forward(x, memory)`` lets the queries of x
    (N, Tq, H, W, C) attend to a memory (N, S, H, W, C) whose first axis the window covers
    whole (``kernel_size[0] >= S``; NCM's cross-scale step). Projections: q/k/v linear to
    ``embed_dims`` (default C), an output linear back to C; ``checkpoint``: recompute the
    block rows in the backward pass (training memory, see the module docstring).
    """

    def __init__(self, channels: int, num_heads: int, kernel_size: Sequence[int] = (7, 7, 7),
                 embed_dims: Optional[int] = None, block_size: Optional[Sequence[int]] = None,
                 rel_pos_bias: bool = True, qkv_bias: bool = True, checkpoint: bool = True):
        super().__init__()
        self.checkpoint = checkpoint
        embed = embed_dims or channels
        if embed % num_heads != 0:
            raise ValueError(f'neighbourhood attention: {embed} channels are not divisible '
                             f'by {num_heads} heads')
        if len(kernel_size) != 3 or any(int(x) < 1 for x in kernel_size):
            raise ValueError(f'kernel_size must be 3 positive ints, got {kernel_size}')
        self.num_heads = num_heads
        self.head_dims = embed // num_heads
        self.scale = self.head_dims ** -0.5
        self.kernel_size = tuple(int(x) for x in kernel_size)
        self.block_size = None if block_size is None else tuple(int(x) for x in block_size)
        self.q = nn.Linear(channels, embed, bias=qkv_bias)
        self.kv = nn.Linear(channels, 2 * embed, bias=qkv_bias)
        self.proj = nn.Linear(embed, channels)
        self.rpb = nn.Parameter(torch.zeros(num_heads, *[2 * x - 1 for x in self.kernel_size])) \
            if rel_pos_bias else None
        if self.rpb is not None:
            nn.init.trunc_normal_(self.rpb, std=0.02)

    def _heads(self, x: Tensor) -> Tensor:
        n, t, h, w, _ = x.shape
        return x.view(n, t, h, w, self.num_heads, self.head_dims).permute(0, 4, 1, 2, 3, 5)

    def forward(self, x: Tensor, memory: Optional[Tensor] = None) -> Tensor:
        mem = x if memory is None else memory
        q = self._heads(self.q(x)) * self.scale
        k, v = [self._heads(p) for p in self.kv(mem).chunk(2, dim=-1)]
        out = neighbourhood_attention(q, k, v, self.kernel_size, self.block_size, self.rpb,
                                      checkpoint=self.checkpoint)
        n, _, t, h, w, _ = out.shape
        return self.proj(out.permute(0, 2, 3, 4, 1, 5).reshape(n, t, h, w, -1))
