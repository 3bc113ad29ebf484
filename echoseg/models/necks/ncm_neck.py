"""NCM-Net's Neighbourhood Correlation Mining (NCM) as a temporal neck (Deng & Wu, IEEE TMI
2025, "Echocardiography Video Segmentation via Neighborhood Correlation Mining").

The abstract: NCM "mines the correlations between query features and their spatiotemporal
neighborhoods to resist noise" and "captures cross-scale contextual correlations between
pixels spatially". The authors' code (an mmseg fork) runs 3-D neighbourhood attention
(NATTEN, 7 x 7 x 7 window, 4 heads, 5 layers) on the ResNet-50 stride-16 level (1024
channels) and leaves the other levels unchanged; its spatial (cross-scale) layer is
commented out and passed as ``None``: the released model has no cross-scale step in the
neck (its cross-scale context comes from the head's deformable-attention pixel decoder).

One NCM layer on the working level X (B, T, H, W, C). ``layer_form='fork'`` (default, the
authors' layer as released):

1. spatio-temporal neighbourhood attention: ``A = X + NA3d(LN1(X))``, every position
   attending to its (k_t, k_h, k_w) window over frames and pixels (borders: the window is
   shifted inwards, NATTEN's definition; ``echoseg.models.layers.neighbourhood_attention``);
2. FFN with ReLU, post-norm inside and a residual outside, one LayerNorm used twice (the
   fork assigns ``norm2`` twice, so both uses share it): ``Y = LN2(A)``,
   ``Z = A + LN2(Y + MLP(Y))``;
3. the encoder's residual around the layer: ``X' = Z + X`` (so the identity path doubles in
   every layer, as released).

``layer_form='prenorm'`` (echoseg's earlier layer): ``X = X + NA3d(LN(X))``, the optional
cross-scale step, ``X = X + MLP_GELU(LN(X))``.

Cross-scale spatial correlation (a variant, ours; ``cross_scale_index``, off by default):
the other levels in ``cross_scale_index`` are projected to C (1x1 conv) and resampled to
X's grid once per forward (a finer level average-pooled, a coarser one bilinearly
upsampled); per frame, each position of X attends to the (k_s x k_s) spatial window around
it on every scale, its own included: ``X = X + NA(LN(X), LN'([X; P_1; ...]))`` with the
scale axis covered whole (a learned bias per scale and offset). In the fork form it runs
where the fork's commented-out spatial layer sits: after step 2, inside the encoder's
residual.

The output is the input tuple with the working level replaced; channels are unchanged, so
any head follows. Memory grows linearly with T*H*W (blocked attention, no THW x THW
matrix). Called without a ``ClipContext`` every frame is its own clip (T = 1).
"""
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from echoseg.registry import MODELS
from ..layers.attention import FFNLayer
from ..layers.neighbourhood_attention import NeighbourhoodAttention3d


LAYER_FORMS = ('fork', 'prenorm')


class NCMLayer(nn.Module):
    """One NCM layer on (B, T, H, W, C); see the module docstring."""

    def __init__(self, channels: int, num_heads: int, kernel_size: Sequence[int],
                 ffn_channels: int, num_scales: int, cross_scale_kernel: int,
                 cross_scale_channels: int, cross_scale_heads: int,
                 block_size: Optional[Sequence[int]], rel_pos_bias: bool, dropout: float,
                 checkpoint: bool, form: str = 'fork'):
        super().__init__()
        if form not in LAYER_FORMS:
            raise ValueError(f'NCMNeck: layer_form must be one of {LAYER_FORMS}, got {form!r}')
        self.form = form
        self.norm = nn.LayerNorm(channels)
        self.attn = NeighbourhoodAttention3d(channels, num_heads, kernel_size,
                                             block_size=block_size, rel_pos_bias=rel_pos_bias,
                                             checkpoint=checkpoint)
        self.cross_scale = None
        if num_scales > 1:
            self.norm_cs = nn.LayerNorm(channels)
            self.norm_cs_memory = nn.LayerNorm(channels)
            self.cross_scale = NeighbourhoodAttention3d(
                channels, cross_scale_heads,
                (num_scales, cross_scale_kernel, cross_scale_kernel),
                embed_dims=cross_scale_channels, rel_pos_bias=rel_pos_bias,
                checkpoint=checkpoint)
        if form == 'fork':   # post-norm ReLU FFN; its norm is also the fork's LN2 before it
            self.ffn = FFNLayer(channels, ffn_channels, dropout, activation='relu')
        else:
            self.ffn = FFNLayer(channels, ffn_channels, dropout, pre_norm=True)
        self.drop = nn.Dropout(dropout)

    def _cross_scale(self, x: Tensor, scales: Optional[Tensor]) -> Tensor:
        if self.cross_scale is None or scales is None:
            return x
        b, t, h, w, c = x.shape
        q = self.norm_cs(x).reshape(b * t, 1, h, w, c)
        memory = self.norm_cs_memory(torch.cat([x.reshape(b * t, 1, h, w, c), scales], 1))
        return x + self.drop(self.cross_scale(q, memory)).view(b, t, h, w, c)

    def forward(self, x: Tensor, scales: Optional[Tensor] = None) -> Tensor:
        """x: (B, T, H, W, C); scales: (B*T, S-1, H, W, C) other levels, or None."""
        a = x + self.drop(self.attn(self.norm(x)))
        if self.form == 'prenorm':
            return self.ffn(self._cross_scale(a, scales))
        z = a + self.ffn(self.ffn.norm(a))
        return self._cross_scale(z, scales) + x


@MODELS.register_module()
class NCMNeck(BaseModule):
    """Neighbourhood Correlation Mining neck (NCM-Net; module docstring).

    Args:
        in_channels: channels of every backbone level (list).
        in_index: the working level (the authors: 2, ResNet stride 16).
        cross_scale_index: other levels read by the cross-scale step (ours, a variant:
            e.g. the neighbouring levels 1 and 3, strides 8 and 32); ``()`` (default, as
            the fork) disables it.
        layer_form: ``'fork'`` (default: the authors' released layer, module docstring) or
            ``'prenorm'`` (echoseg's earlier pre-norm layer with a GELU FFN).
        num_layers: stacked NCM layers (the authors' configs: 5).
        num_heads: attention heads (the authors': 4).
        kernel_size: (k_t, k_h, k_w) spatio-temporal window (the authors': 7 x 7 x 7).
        cross_scale_kernel: spatial window of the cross-scale step (ours: 7).
        cross_scale_channels: width of the cross-scale attention (ours: 256).
        ffn_channels: FFN hidden size (the authors' ``d_ffn``: 1024).
        block_size: query block per axis of the blocked attention (default ceil(k / 2)).
        rel_pos_bias: learned relative position bias (NATTEN's rpb; NATTEN 0.14's
            ``NeighborhoodAttention3D`` has it by default, ``bias=True``).
        dropout: after every residual branch.
        checkpoint: recompute the attention's block rows in the backward pass (training
            memory: linear in T*H*W with a small constant; costs one more attention
            forward).
    """

    temporal = True

    def __init__(self, in_channels: Sequence[int], in_index: int = 2,
                 cross_scale_index: Sequence[int] = (), num_layers: int = 5,
                 num_heads: int = 4, kernel_size: Sequence[int] = (7, 7, 7),
                 cross_scale_kernel: int = 7, cross_scale_channels: int = 256,
                 ffn_channels: int = 1024, block_size: Optional[Sequence[int]] = None,
                 rel_pos_bias: bool = True, dropout: float = 0.0, checkpoint: bool = True,
                 layer_form: str = 'fork', init_cfg=None):
        super().__init__(init_cfg)
        if isinstance(in_channels, int):
            in_channels = [in_channels]
        self.in_channels = list(in_channels)
        self.in_index = in_index % len(self.in_channels)
        self.cross_scale_index = [i % len(self.in_channels) for i in cross_scale_index]
        if self.in_index in self.cross_scale_index:
            raise ValueError('NCMNeck: cross_scale_index must not contain in_index')
        c = self.in_channels[self.in_index]
        self.scale_proj = nn.ModuleList(
            nn.Conv2d(self.in_channels[i], c, 1) for i in self.cross_scale_index)
        cs_dims = min(cross_scale_channels, c)
        cs_heads = num_heads if cs_dims % num_heads == 0 else 1
        self.layers = nn.ModuleList(
            NCMLayer(c, num_heads, kernel_size, ffn_channels, 1 + len(self.cross_scale_index),
                     cross_scale_kernel, cs_dims, cs_heads, block_size, rel_pos_bias, dropout,
                     checkpoint, layer_form)
            for _ in range(num_layers))

    def _scales(self, feats: Sequence[Tensor], size: Tuple[int, int]) -> Optional[Tensor]:
        """(N, S-1, H, W, C) other levels projected and resampled to the working grid."""
        if not self.cross_scale_index:
            return None
        out = []
        for proj, i in zip(self.scale_proj, self.cross_scale_index):
            f = feats[i]
            if f.shape[-2] >= size[0] and f.shape[-1] >= size[1]:
                f = F.adaptive_avg_pool2d(f, size)   # finer level: area average
            else:
                f = F.interpolate(f, size=size, mode='bilinear', align_corners=False)
            out.append(proj(f))
        return torch.stack(out, dim=1).permute(0, 1, 3, 4, 2)

    def forward(self, inputs: Union[Tensor, Sequence[Tensor]], clip=None) -> Tuple[Tensor, ...]:
        feats = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        x = feats[self.in_index]
        n, c, h, w = x.shape
        b, t = (clip.batch_size, clip.num_frames) if clip is not None else (n, 1)
        scales = self._scales(feats, (h, w))
        x = x.permute(0, 2, 3, 1).reshape(b, t, h, w, c)
        for layer in self.layers:
            x = layer(x, scales)
        feats[self.in_index] = x.reshape(n, h, w, c).permute(0, 3, 1, 2).contiguous()
        return tuple(feats)
