"""Attention building blocks shared by echoseg's transformer-style modules.

Plain ``nn.Module``s on token tensors laid out ``(batch, tokens, channels)``; every block
is post-norm (``x = LayerNorm(x + sublayer(x))``, as in DETR / Mask2Former decoders), so
stacking them needs no extra normalisation. Positional embeddings are added to queries
and keys only, never to values.

- :class:`SelfAttentionLayer`, :class:`CrossAttentionLayer`, :class:`FFNLayer`: the three
  sub-layers, each with its residual and LayerNorm.
- :class:`TransformerBlock`: self-attention -> optional cross-attention -> FFN.
- :class:`TwoWayAttentionBlock`: tokens and an image attend to each other (SAM-style):
  token self-attention, tokens -> image cross-attention, token FFN, image -> tokens
  cross-attention. Returns both updated streams.
- :func:`sine_positional_encoding`: the 2-D sine embedding of DETR for an (h, w) grid.
"""
import math
from typing import Optional, Tuple

import torch
from torch import Tensor, nn


def _with_pos(x: Tensor, pos: Optional[Tensor]) -> Tensor:
    return x if pos is None else x + pos


def expand_attn_mask(mask: Optional[Tensor], num_heads: int) -> Optional[Tensor]:
    """(B, Lq, Lk) bool mask (True = blocked) -> (B*num_heads, Lq, Lk) for nn.MultiheadAttention.

    Rows where every key is blocked are unblocked entirely (the guard of Mask2Former):
    a softmax over no key would give NaN.
    """
    if mask is None:
        return None
    mask = mask.bool()
    all_blocked = mask.all(dim=-1, keepdim=True)
    mask = mask & ~all_blocked
    return mask.repeat_interleave(num_heads, dim=0)


class SelfAttentionLayer(nn.Module):
    """``x = LN(x + Dropout(MHA(x + pos, x + pos, x)))``."""

    def __init__(self, dim: int, num_heads: int, dropout: float = 0.0):
        super().__init__()
        self.attn = nn.MultiheadAttention(dim, num_heads, dropout=dropout, batch_first=True)
        self.norm = nn.LayerNorm(dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: Tensor, pos: Optional[Tensor] = None,
                key_padding_mask: Optional[Tensor] = None) -> Tensor:
        q = k = _with_pos(x, pos)
        out, _ = self.attn(q, k, x, key_padding_mask=key_padding_mask, need_weights=False)
        return self.norm(x + self.drop(out))


class CrossAttentionLayer(nn.Module):
    """``q = LN(q + Dropout(MHA(q + q_pos, mem + mem_pos, mem)))``.

    With ``pre_norm=True`` the residual stream is left unnormalised instead:
    ``q = q + Dropout(MHA(LN(q) + q_pos, LN_m(mem) + mem_pos, LN_m(mem)))``, which keeps
    ``q`` in the scale of its input (used where the output must stay in a feature space,
    e.g. ARC's anchors). ``attn_mask`` is (B, Lq, Lk) bool with True where attention is
    blocked; fully blocked rows are released (see :func:`expand_attn_mask`).
    """

    def __init__(self, dim: int, num_heads: int, dropout: float = 0.0,
                 kdim: Optional[int] = None, pre_norm: bool = False):
        super().__init__()
        self.num_heads = num_heads
        self.pre_norm = pre_norm
        self.attn = nn.MultiheadAttention(dim, num_heads, dropout=dropout, batch_first=True,
                                          kdim=kdim, vdim=kdim)
        self.norm = nn.LayerNorm(dim)
        self.norm_memory = nn.LayerNorm(kdim or dim) if pre_norm else None
        self.drop = nn.Dropout(dropout)

    def forward(self, query: Tensor, memory: Tensor, query_pos: Optional[Tensor] = None,
                memory_pos: Optional[Tensor] = None, attn_mask: Optional[Tensor] = None,
                key_padding_mask: Optional[Tensor] = None,
                return_weights: bool = False):
        q_in = self.norm(query) if self.pre_norm else query
        mem = self.norm_memory(memory) if self.pre_norm else memory
        out, weights = self.attn(_with_pos(q_in, query_pos), _with_pos(mem, memory_pos),
                                 mem, attn_mask=expand_attn_mask(attn_mask, self.num_heads),
                                 key_padding_mask=key_padding_mask,
                                 need_weights=return_weights)
        if self.pre_norm:
            out = query + self.drop(out)
        else:
            out = self.norm(query + self.drop(out))
        return (out, weights) if return_weights else out


class FFNLayer(nn.Module):
    """``x = LN(x + Dropout(Linear(GELU(Linear(x)))))``; pre-norm: ``x + MLP(LN(x))``.

    ``activation='relu'`` puts a ReLU in place of the GELU (DETR's / Mask2Former's FFN).
    """

    def __init__(self, dim: int, hidden_dim: Optional[int] = None, dropout: float = 0.0,
                 pre_norm: bool = False, activation: str = 'gelu'):
        super().__init__()
        hidden_dim = hidden_dim or 4 * dim
        self.pre_norm = pre_norm
        acts = dict(gelu=nn.GELU, relu=nn.ReLU)
        if activation not in acts:
            raise ValueError(f"FFNLayer: activation must be 'gelu' or 'relu', got {activation!r}")
        self.mlp = nn.Sequential(nn.Linear(dim, hidden_dim), acts[activation](),
                                 nn.Dropout(dropout), nn.Linear(hidden_dim, dim))
        self.norm = nn.LayerNorm(dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        if self.pre_norm:
            return x + self.drop(self.mlp(self.norm(x)))
        return self.norm(x + self.drop(self.mlp(x)))


class TransformerBlock(nn.Module):
    """Self-attention, then (when ``memory`` is given) cross-attention, then an FFN."""

    def __init__(self, dim: int, num_heads: int, ffn_dim: Optional[int] = None,
                 dropout: float = 0.0, with_self_attn: bool = True,
                 with_cross_attn: bool = True):
        super().__init__()
        self.self_attn = SelfAttentionLayer(dim, num_heads, dropout) if with_self_attn else None
        self.cross_attn = CrossAttentionLayer(dim, num_heads, dropout) \
            if with_cross_attn else None
        self.ffn = FFNLayer(dim, ffn_dim, dropout)

    def forward(self, x: Tensor, memory: Optional[Tensor] = None,
                pos: Optional[Tensor] = None, memory_pos: Optional[Tensor] = None,
                attn_mask: Optional[Tensor] = None) -> Tensor:
        if self.self_attn is not None:
            x = self.self_attn(x, pos)
        if self.cross_attn is not None and memory is not None:
            x = self.cross_attn(x, memory, pos, memory_pos, attn_mask=attn_mask)
        return self.ffn(x)


class TwoWayAttentionBlock(nn.Module):
    """Tokens and image features attend to each other; both streams come back updated.

    Order (as in SAM's two-way transformer): token self-attention; tokens query the
    image; token FFN; image queries the tokens. ``tokens``: (B, N, C); ``image``:
    (B, L, C) flattened pixels.
    """

    def __init__(self, dim: int, num_heads: int, ffn_dim: Optional[int] = None,
                 dropout: float = 0.0):
        super().__init__()
        self.token_self_attn = SelfAttentionLayer(dim, num_heads, dropout)
        self.token_to_image = CrossAttentionLayer(dim, num_heads, dropout)
        self.token_ffn = FFNLayer(dim, ffn_dim, dropout)
        self.image_to_token = CrossAttentionLayer(dim, num_heads, dropout)

    def forward(self, tokens: Tensor, image: Tensor, token_pos: Optional[Tensor] = None,
                image_pos: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        tokens = self.token_self_attn(tokens, token_pos)
        tokens = self.token_to_image(tokens, image, token_pos, image_pos)
        tokens = self.token_ffn(tokens)
        image = self.image_to_token(image, tokens, image_pos, token_pos)
        return tokens, image


def sine_positional_encoding(h: int, w: int, dim: int, temperature: float = 10000.0,
                             device=None, dtype=torch.float32) -> Tensor:
    """(h*w, dim) 2-D sine embedding of a pixel grid (DETR), rows then columns.

    Half of the channels encode the row, half the column; coordinates are normalised to
    [0, 2*pi] so the embedding does not depend on the grid size.
    """
    if dim % 4 != 0:
        raise ValueError(f'sine_positional_encoding needs dim divisible by 4, got {dim}')
    quarter = dim // 4
    ys = (torch.arange(h, device=device, dtype=dtype) + 0.5) / h * 2 * math.pi
    xs = (torch.arange(w, device=device, dtype=dtype) + 0.5) / w * 2 * math.pi
    freq = temperature ** (torch.arange(quarter, device=device, dtype=dtype) / quarter)
    y = ys[:, None] / freq  # (h, quarter)
    x = xs[:, None] / freq  # (w, quarter)
    y = torch.cat([y.sin(), y.cos()], dim=1)[:, None, :].expand(h, w, 2 * quarter)
    x = torch.cat([x.sin(), x.cos()], dim=1)[None, :, :].expand(h, w, 2 * quarter)
    return torch.cat([y, x], dim=-1).reshape(h * w, dim)
