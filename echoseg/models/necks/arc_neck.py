"""EchoForge's Anchor Recalibration (ARC), as a per-frame neck (paper sec. 3.2.1, eqs 1-2).

Steps for one feature map X (C, H, W) of one frame:

1. anchor weight maps (eq. 1): ``M = softmax_i(f_i(X))`` over anchors, ``f`` a 1x1 conv.
   With one anchor the softmax would be constant 1, so ``M = sigmoid(f(X))`` is used.
2. initial anchors (eq. 2): ``a_i0 = sum_xy M_i X / sum_xy M_i`` (weighted average pooling).
3. anchor update (Fig. 3): the K pixel features nearest to ``a_i0`` (Euclidean distance in
   feature space, ``torch.topk``) form N_i; a feature-fusion block updates the anchor with
   ``a_i0`` as the query and ``[a_i0; N_i]`` as keys/values. At full width
   (``embed_dims=None``, the paper: anchors are in R^C) it is a pre-norm transformer step

       a' = a_i0 + MHA(LN(a_i0), LN'([a_i0; N_i]));   a_i = a' + FFN(LN''(a'))

   whose two output projections start at zero, so at initialisation ``a_i = a_i0``. With
   ``embed_dims`` set it runs in a bottleneck of that width (an adapter, the earlier
   design):

       h = Down(LN(a_i0));  kv = Down(LN'([a_i0; N_i]))
       h = h + MHA(h, kv, kv);  h = h + FFN(LN''(h))
       a_i = a_i0 + Up(h)        (Up starts at zero)

   Either way the residual stream stays in the scale of X (the anchor is mixed into X).
4. recalibration (Fig. 2): X is cut into non-overlapping ``patch_size`` patches (zero
   padded at the bottom/right edge when needed; padding is excluded from the means), a
   patch descriptor is the mean feature, ``s_ik = cos(P_k, a_i)``, and the patch
   probabilities are ``softmax_i(s_ik / temperature)``. Anchor 0 is the foreground anchor,
   the others background: ``p_fg = p_0`` and ``p_bg = 1 - p_fg``. With one anchor
   ``p_fg = sigmoid(s_0k / temperature)`` (an implicit background orthogonal to it).
   A patch is uncertain when ``lo <= p_fg <= hi`` (``uncertainty_interval``). It moves
   towards the more probable side's anchor (anchor 0, or the most probable background
   anchor) with

       w = max_weight * (1 - |p_fg - 0.5| / h),  h = hi - 0.5 if p_fg >= 0.5 else 0.5 - lo
       F' = (1 - w) F + w a_best

   For two anchors ``|p_fg - p_bg| = |tanh((s_fg - s_bg) / (2 temperature))|``, so ``w`` falls
   linearly with the similarity difference (through that monotone map): the most
   ambiguous patch (p_fg = 0.5) moves by ``max_weight``, a patch at the interval edge not
   at all. Confident patches are copied unchanged. With one anchor, uncertain patches on
   the background side stay unchanged (there is no background anchor to move to).
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from echoseg.registry import MODELS
from ..layers.attention import FFNLayer


class AnchorRecalibration(nn.Module):
    """ARC on one feature level; see the module docstring for the equations."""

    def __init__(self, channels: int, num_anchors: int = 2, k: int = 16, patch_size: int = 2,
                 uncertainty_interval: Tuple[float, float] = (0.4, 0.6), num_heads: int = 8,
                 ffn_ratio: float = 2.0, temperature: float = 0.1, max_weight: float = 0.5,
                 embed_dims: Optional[int] = None, dropout: float = 0.0):
        super().__init__()
        if not 1 <= num_anchors:
            raise ValueError(f'ARC: num_anchors must be >= 1, got {num_anchors}')
        lo, hi = uncertainty_interval
        if not 0.0 <= lo <= 0.5 <= hi <= 1.0:
            raise ValueError('ARC: uncertainty_interval must satisfy 0 <= lo <= 0.5 <= hi <= 1, '
                             f'got {uncertainty_interval}')
        if (embed_dims or channels) % num_heads != 0:
            raise ValueError(f'ARC: embed_dims ({embed_dims or channels}) must be divisible '
                             f'by num_heads ({num_heads})')
        self.channels = channels
        self.num_anchors = num_anchors
        self.k = k
        self.patch_size = patch_size
        self.interval = (float(lo), float(hi))
        self.temperature = temperature
        self.max_weight = max_weight
        self.bottleneck = embed_dims is not None and embed_dims != channels
        embed = embed_dims if self.bottleneck else channels
        self.anchor_logits = nn.Conv2d(channels, num_anchors, kernel_size=1)  # f_i of eq. 1
        self.norm_anchor = nn.LayerNorm(channels)
        self.norm_keys = nn.LayerNorm(channels)
        self.down = nn.Linear(channels, embed) if self.bottleneck else nn.Identity()
        self.fusion_attn = nn.MultiheadAttention(embed, num_heads, dropout=dropout,
                                                 batch_first=True)
        self.fusion_ffn = FFNLayer(embed, max(1, int(embed * ffn_ratio)), dropout,
                                   pre_norm=True)
        self.up = nn.Linear(embed, channels) if self.bottleneck else nn.Identity()
        self._init_weights()

    def _init_weights(self) -> None:
        """Kaiming (the paper), fan_in: every layer keeps the variance of its input, so the
        anchor softmax of eq. 1 starts unsaturated (fan_out on the C -> 2 logit conv gives
        weights of std ~1 and saturated maps with no gradient). The update starts as the
        identity (its output projection(s) at zero)."""
        nn.init.kaiming_normal_(self.anchor_logits.weight, mode='fan_in',
                                nonlinearity='linear')
        nn.init.zeros_(self.anchor_logits.bias)
        hidden = [self.fusion_ffn.mlp[0]] + ([self.down] if self.bottleneck else [])
        for m in hidden:
            nn.init.kaiming_normal_(m.weight, mode='fan_in', nonlinearity='relu')
            nn.init.zeros_(m.bias)
        if self.bottleneck:
            nn.init.kaiming_normal_(self.fusion_ffn.mlp[3].weight, mode='fan_in',
                                    nonlinearity='linear')
            zero = [self.up]
        else:
            zero = [self.fusion_attn.out_proj, self.fusion_ffn.mlp[3]]
        nn.init.zeros_(self.fusion_ffn.mlp[3].bias)
        for m in zero:
            nn.init.zeros_(m.weight)
            nn.init.zeros_(m.bias)

    # ---------------------------------------------------------------- anchors
    def anchor_weights(self, x: Tensor) -> Tensor:
        """Eq. 1: (n, C, H, W) -> (n, A, H, W) weight maps M_i."""
        logits = self.anchor_logits(x)
        if self.num_anchors == 1:
            return logits.sigmoid()
        return logits.softmax(dim=1)

    def initial_anchors(self, x: Tensor) -> Tuple[Tensor, Tensor]:
        """Eq. 2: weighted average pooling -> (n, A, C) anchors, and the (n, A, H, W) maps."""
        m = self.anchor_weights(x)
        num = torch.einsum('nahw,nchw->nac', m, x)
        den = m.sum(dim=(2, 3)).clamp_min(1e-6).unsqueeze(-1)
        return num / den, m

    def nearest_neighbours(self, x: Tensor, anchors: Tensor) -> Tuple[Tensor, Tensor]:
        """The K pixel features closest to each anchor: ((n, A, K, C), (n, A, K) indices)."""
        n, c = x.shape[:2]
        pixels = x.flatten(2).transpose(1, 2)  # (n, HW, C)
        k = min(self.k, pixels.shape[1])
        dist = torch.cdist(anchors, pixels)  # (n, A, HW)
        idx = dist.topk(k, dim=-1, largest=False).indices
        gathered = torch.gather(pixels.unsqueeze(1).expand(n, anchors.shape[1], -1, c), 2,
                                idx.unsqueeze(-1).expand(-1, -1, -1, c))
        return gathered, idx

    def update_anchors(self, x: Tensor, anchors: Tensor) -> Tensor:
        """Fig. 3: KNN screening then feature fusion -> refined (n, A, C) anchors."""
        n, a, c = anchors.shape
        neighbours, _ = self.nearest_neighbours(x, anchors)
        query = anchors.reshape(n * a, 1, c)
        keys = torch.cat([anchors.unsqueeze(2), neighbours], dim=2).reshape(n * a, -1, c)
        h = self.down(self.norm_anchor(query))
        kv = self.down(self.norm_keys(keys))
        attn = self.fusion_attn(h, kv, kv, need_weights=False)[0]
        if self.bottleneck:
            return (query + self.up(self.fusion_ffn(h + attn))).reshape(n, a, c)
        return self.fusion_ffn(query + attn).reshape(n, a, c)

    # ---------------------------------------------------------------- recalibration
    def _patch_means(self, x: Tensor) -> Tensor:
        p = self.patch_size
        h, w = x.shape[-2:]
        pad = (0, (-w) % p, 0, (-h) % p)
        ones = x.new_ones(1, 1, h, w)
        total = F.avg_pool2d(F.pad(x, pad), p, stride=p) * (p * p)
        count = F.avg_pool2d(F.pad(ones, pad), p, stride=p) * (p * p)
        return total / count

    def _to_pixels(self, patch_map: Tensor, h: int, w: int) -> Tensor:
        p = self.patch_size
        out = patch_map.repeat_interleave(p, dim=-2).repeat_interleave(p, dim=-1)
        return out[..., :h, :w]

    def patch_probabilities(self, desc: Tensor, anchors: Tensor) -> Tuple[Tensor, Tensor]:
        """Cosine similarities (n, A, Hp, Wp) of patch descriptors to anchors, and p_fg."""
        sim = torch.einsum('nchw,nac->nahw', F.normalize(desc, dim=1),
                           F.normalize(anchors, dim=-1))
        if self.num_anchors == 1:
            p_fg = (sim[:, 0] / self.temperature).sigmoid()
        else:
            p_fg = (sim / self.temperature).softmax(dim=1)[:, 0]
        return sim, p_fg

    def recalibrate(self, x: Tensor, anchors: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Recalibrate (n, C, H, W) features; ``anchors`` (n or 1, A, C) skips eqs 1-2 + Fig. 3.

        Returns a dict with ``out`` (n, C, H, W), ``anchors`` (n, A, C), ``sim`` and
        ``p_fg`` per patch, ``uncertain`` (bool), ``weight`` (w per patch), ``best`` (the
        anchor each patch moves towards) and, when computed, ``init_anchors`` and
        ``anchor_maps`` (eq. 1).
        """
        n, _, h, w = x.shape
        result = {}
        if anchors is None:
            init, maps = self.initial_anchors(x)
            anchors = self.update_anchors(x, init)
            result.update(init_anchors=init, anchor_maps=maps)
        anchors = anchors.expand(n, -1, -1)
        desc = self._patch_means(x)
        sim, p_fg = self.patch_probabilities(desc, anchors)
        lo, hi = self.interval
        fg_side = p_fg >= 0.5
        uncertain = (p_fg >= lo) & (p_fg <= hi)
        half = torch.where(fg_side, torch.full_like(p_fg, hi - 0.5),
                           torch.full_like(p_fg, 0.5 - lo)).clamp_min(1e-6)
        weight = self.max_weight * (1 - (p_fg - 0.5).abs() / half).clamp(0, 1)
        if self.num_anchors == 1:
            uncertain = uncertain & fg_side
            best = torch.zeros_like(p_fg, dtype=torch.long)
        else:
            best_bg = 1 + sim[:, 1:].argmax(dim=1)
            best = torch.where(fg_side, torch.zeros_like(best_bg), best_bg)
        weight = torch.where(uncertain, weight, torch.zeros_like(weight))
        target = torch.gather(anchors, 1, best.flatten(1).unsqueeze(-1).expand(
            -1, -1, anchors.shape[-1]))  # (n, Hp*Wp, C)
        target = target.transpose(1, 2).reshape(n, -1, *best.shape[-2:])
        w_pix = self._to_pixels(weight.unsqueeze(1), h, w)
        moved = x + w_pix * (self._to_pixels(target, h, w) - x)
        out = torch.where(w_pix > 0, moved, x)  # confident patches are copied bit-exactly
        result.update(out=out, anchors=anchors, sim=sim, p_fg=p_fg, uncertain=uncertain,
                      weight=weight, best=best)
        return result

    def forward(self, x: Tensor) -> Tensor:
        return self.recalibrate(x)['out']


@MODELS.register_module()
class ARCNeck(BaseModule):
    """Anchor Recalibration neck of EchoForge (sec. 3.2.1, eqs 1-2, Figs 2-3).

    Runs per frame (no ``temporal`` attribute), so it can sit between any mmseg backbone
    and any head. The levels in ``in_index`` are recalibrated (one independent
    :class:`AnchorRecalibration` each); the other levels pass through unchanged, and the
    output is the same tuple of feature maps with the same channels.

    Args:
        in_channels: channels of every backbone level (list), or of the recalibrated
            level(s) (int).
        in_index: level(s) to recalibrate; default the last (the encoder output X).
        num_anchors: 1-4; anchor 0 is the foreground anchor, the others background.
        k: neighbours in the KNN screening (paper default 16).
        patch_size: side of the non-overlapping patches, in feature pixels.
        uncertainty_interval: (lo, hi) foreground-probability interval of patches to move.
        num_heads: heads of the feature-fusion attention (must divide ``embed_dims``).
        ffn_ratio: hidden size of the feature-fusion FFN relative to ``embed_dims``.
        embed_dims: width of the feature-fusion bottleneck; None = full width (the level's
            channels, the paper; a level narrower than ``embed_dims`` uses its own width).
        temperature: of the softmax over patch-anchor cosine similarities.
        max_weight: the interpolation weight of the most ambiguous patch (p_fg = 0.5).
        dropout: in the feature-fusion block.
    """

    def __init__(self, in_channels: Union[int, Sequence[int]],
                 in_index: Union[int, Sequence[int]] = -1, num_anchors: int = 2, k: int = 16,
                 patch_size: int = 2, uncertainty_interval: Tuple[float, float] = (0.4, 0.6),
                 num_heads: int = 8, ffn_ratio: float = 2.0, temperature: float = 0.1,
                 max_weight: float = 0.5, embed_dims: Optional[int] = None,
                 dropout: float = 0.0, init_cfg=None):
        super().__init__(init_cfg)
        self.in_index: List[int] = [in_index] if isinstance(in_index, int) else list(in_index)
        self.in_channels = in_channels
        self.arc = nn.ModuleDict()
        for idx in self.in_index:
            channels = in_channels if isinstance(in_channels, int) else in_channels[idx]
            self.arc[str(idx)] = AnchorRecalibration(
                channels, num_anchors=num_anchors, k=k, patch_size=patch_size,
                uncertainty_interval=uncertainty_interval, num_heads=num_heads,
                ffn_ratio=ffn_ratio, temperature=temperature, max_weight=max_weight,
                embed_dims=None if embed_dims is None else min(embed_dims, channels),
                dropout=dropout)

    def forward(self, inputs: Union[Tensor, Sequence[Tensor]]) -> Tuple[Tensor, ...]:
        feats = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        for idx in self.in_index:
            pos = idx % len(feats)
            feats[pos] = self.arc[str(idx)](feats[pos])
        return tuple(feats)
