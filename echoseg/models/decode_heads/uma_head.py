"""NCM-Net's Unreliable-pixel Masked Attention (UMA) decode head (Deng & Wu, IEEE TMI 2025:
"by masking reliable pixels, it pays extra attention to unreliable pixels to refine the
boundary of segmentation").

A Mask2Former-style query decoder, as in the authors' code (their ``STEchoHeadv3``), with
the cross-attention masked to the *unreliable* pixels instead of the predicted foreground:

``pixel decoder`` (``multi_scale_features``)
    ``pixel_decoder=dict(type='mmdet.MSDeformAttnPixelDecoder', ...)`` (NCM-Net's configs,
    as the authors'): mmdet's Mask2Former pixel decoder, a deformable-attention encoder
    over the ``num_feature_levels`` coarsest levels and an FPN step to the finest
    (``echoseg.models.layers.pixel_decoder``: built with the head's widths);
    ``pixel_decoder=None`` (echoseg's earlier decoder): an FPN over the ``in_index`` levels
    (1x1 laterals to ``channels``, top-down sum, 3x3 output convs). Either way the finest
    level gives the mask features E (n, d, h0, w0) and the ``num_feature_levels`` coarsest
    the decoder's memories, coarse to fine, each with a sine position embedding and a
    learned level embedding, visited round-robin by the layers (Mask2Former's order).
``predict``
    ``m_q = <MLP(LN(Q_q)), E>`` (n, Q, h0, w0): the logits of mask channel q (one query per
    output channel; the LV with one sigmoid channel by default, as the authors).
``uma_mask`` (the paper's UMA)
    from the previous prediction resized to the memory level: probability p (sigmoid of
    one channel, softmax over several) and the pixels a query may attend to are exactly
    those with ``lo <= p <= hi`` (``uncertainty_interval``, [0.4, 0.6] as the authors);
    a query with no such pixel attends everywhere (Mask2Former's guard, as the authors).
``layer``
    UMA cross-attention -> self-attention over the queries -> FFN (ReLU, as the authors';
    ``ffn_activation='gelu'`` for echoseg's earlier layer), post-norm (the authors' layer;
    its plain masked cross-attention is commented out there, left out here).
The initial prediction (from the learned queries) and every layer's prediction are
supervised (deep supervision, keys ``d{i}.<loss>``; the final one without prefix).

**Sigmoid once.** The head returns logits; the losses (``BCEDiceLoss``) apply the sigmoid
themselves. (The authors' code applies a sigmoid and then a sigmoid cross-entropy, i.e.
two sigmoids: not repeated.)

**Cross-frame boundary constraint.** ``loss_temporal`` (e.g. ``CrossFrameBoundaryLoss``)
is applied in ``loss_clip`` to the final logits of *every* frame of each clip at the input
resolution, labelled or not (the paper: "on the final predictions").

In training the mask features E of every frame are left in
``clip.extras['decoder_features']`` (for ``CPRPseudoLabeler(decoder_channels=channels)``).
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmseg.models.utils import resize
from torch import Tensor, nn

from echoseg.registry import MODELS
from ..layers.attention import (CrossAttentionLayer, FFNLayer, SelfAttentionLayer,
                                sine_positional_encoding)
from ..layers.pixel_decoder import build_pixel_decoder
from ..utils import ClipContext
from .base_temporal_head import BaseTemporalDecodeHead


class UMADecoderLayer(nn.Module):
    """UMA cross-attention, query self-attention, FFN (post-norm)."""

    def __init__(self, dim: int, num_heads: int, ffn_dim: int, dropout: float,
                 activation: str = 'relu'):
        super().__init__()
        self.cross_attn = CrossAttentionLayer(dim, num_heads, dropout)
        self.self_attn = SelfAttentionLayer(dim, num_heads, dropout)
        self.ffn = FFNLayer(dim, ffn_dim, dropout, activation=activation)

    def forward(self, queries: Tensor, memory: Tensor, query_pos: Tensor, memory_pos: Tensor,
                attn_mask: Tensor) -> Tensor:
        queries = self.cross_attn(queries, memory, query_pos, memory_pos, attn_mask=attn_mask)
        queries = self.self_attn(queries, query_pos)
        return self.ffn(queries)


@MODELS.register_module()
class UMAHead(BaseTemporalDecodeHead):
    """Unreliable-pixel masked attention head (NCM-Net; module docstring).

    Args:
        num_layers: decoder layers (the authors' configs: 9).
        num_heads: attention heads (the authors': 8; must divide ``channels``).
        ffn_channels: FFN hidden size (default 8 x ``channels``, the authors' 2048 for 256).
        num_feature_levels: coarsest selected levels used as memories (the authors': 3).
        uncertainty_interval: (lo, hi) probability interval of the unreliable pixels.
        deep_supervision: supervise the initial and every layer's prediction.
        loss_temporal: config of a loss on the (B, T, K, H, W) logits of whole clips
            (``CrossFrameBoundaryLoss``), or None.
        attn_dropout: dropout inside the decoder layers.
        pixel_decoder: config of an OpenMMLab pixel decoder (the authors':
            ``mmdet.MSDeformAttnPixelDecoder``; widths from ``channels``), or None for the
            FPN.
        ffn_activation: ``'relu'`` (the authors') or ``'gelu'`` in the decoder layers' FFN.
        Other arguments as mmseg's ``BaseDecodeHead``; ``in_channels`` / ``in_index`` are
        lists of levels, fine to coarse (``input_transform='multiple_select'``), and
        ``out_channels`` is the number of queries (1: sigmoid LV).
    """

    def __init__(self, num_layers: int = 9, num_heads: int = 8,
                 ffn_channels: Optional[int] = None, num_feature_levels: int = 3,
                 uncertainty_interval: Tuple[float, float] = (0.4, 0.6),
                 deep_supervision: bool = True, loss_temporal: Optional[dict] = None,
                 attn_dropout: float = 0.0, pixel_decoder: Optional[dict] = None,
                 ffn_activation: str = 'relu', **kwargs):
        kwargs.setdefault('input_transform', 'multiple_select')
        super().__init__(**kwargs)
        if self.input_transform != 'multiple_select':
            raise ValueError("UMAHead: input_transform must be 'multiple_select'")
        lo, hi = uncertainty_interval
        if not 0.0 <= lo <= hi <= 1.0:
            raise ValueError(f'UMAHead: uncertainty_interval must satisfy 0 <= lo <= hi <= 1, '
                             f'got {uncertainty_interval}')
        if self.channels % num_heads != 0:
            raise ValueError(f'UMAHead: channels ({self.channels}) must be divisible by '
                             f'num_heads ({num_heads})')
        levels = len(self.in_channels)
        if not 1 <= num_feature_levels <= levels:
            raise ValueError(f'UMAHead: num_feature_levels must be in [1, {levels}]')
        d = self.channels
        self.interval = (float(lo), float(hi))
        self.num_feature_levels = num_feature_levels
        self.deep_supervision = deep_supervision
        if pixel_decoder is not None:
            levels_cfg = pixel_decoder.get('encoder', {}).get('layer_cfg', {}).get(
                'self_attn_cfg', {}).get('num_levels', num_feature_levels)
            if levels_cfg != num_feature_levels:
                raise ValueError(f'UMAHead: the pixel decoder attends over {levels_cfg} '
                                 f'levels but num_feature_levels is {num_feature_levels}')
            self.pixel_decoder = build_pixel_decoder(pixel_decoder, self.in_channels, d)
        else:
            self.pixel_decoder = None
            conv = dict(conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
            self.lateral = nn.ModuleList(ConvModule(c, d, 1, **conv) for c in self.in_channels)
            self.output = nn.ModuleList(ConvModule(d, d, 3, padding=1, **conv)
                                        for _ in self.in_channels)
        self.level_embed = nn.Parameter(torch.randn(num_feature_levels, d) * 0.02)
        nq = self.out_channels
        self.query_feat = nn.Parameter(torch.randn(nq, d) * 0.02)
        self.query_pos = nn.Parameter(torch.randn(nq, d) * 0.02)
        self.layers = nn.ModuleList(
            UMADecoderLayer(d, num_heads, ffn_channels or 8 * d, attn_dropout, ffn_activation)
            for _ in range(num_layers))
        self.query_norm = nn.LayerNorm(d)
        self.mask_embed = nn.Sequential(nn.Linear(d, d), nn.ReLU(inplace=True),
                                        nn.Linear(d, d), nn.ReLU(inplace=True),
                                        nn.Linear(d, d))
        self.loss_temporal = MODELS.build(loss_temporal) if loss_temporal else None
        self.remove_conv_seg()  # the masks come from the queries

    # ------------------------------------------------------------------ named steps
    def multi_scale_features(self, inputs: Sequence[Tensor]) -> Tuple[Tensor, List[Tensor]]:
        """Selected levels (fine to coarse) -> mask features E, memories (coarse to fine)."""
        feats = self._transform_inputs(inputs)
        if self.pixel_decoder is not None:
            mask_features, memories = self.pixel_decoder(feats)
            return mask_features, list(memories)[:self.num_feature_levels]
        lat = [lateral(f) for lateral, f in zip(self.lateral, feats)]
        for i in range(len(lat) - 2, -1, -1):
            lat[i] = lat[i] + resize(lat[i + 1], size=lat[i].shape[-2:], mode='bilinear',
                                     align_corners=self.align_corners)
        outs = [conv(x) for conv, x in zip(self.output, lat)]
        return outs[0], outs[::-1][:self.num_feature_levels]

    def predict_masks(self, queries: Tensor, mask_features: Tensor) -> Tensor:
        """(n, Q, d) queries, (n, d, h0, w0) features -> (n, Q, h0, w0) mask logits."""
        return torch.einsum('nqd,ndhw->nqhw', self.mask_embed(self.query_norm(queries)),
                            mask_features)

    def probabilities(self, logits: Tensor) -> Tensor:
        """Sigmoid of one channel, softmax over several."""
        return logits.sigmoid() if logits.shape[1] == 1 else logits.softmax(dim=1)

    def uma_mask(self, logits: Tensor, size: Tuple[int, int]) -> Tensor:
        """UMA: (n, Q, h, w) logits -> (n, Q, h'*w') bool, True where attention is *blocked*
        (reliable pixels: p < lo or p > hi at the memory's size ``size``). A fully blocked
        row is released by the attention layer (the query attends everywhere)."""
        logits = F.interpolate(logits.detach(), size=size, mode='bilinear',
                               align_corners=False)
        p = self.probabilities(logits).flatten(2)
        lo, hi = self.interval
        return (p < lo) | (p > hi)

    def decode(self, inputs: Sequence[Tensor]) -> Tuple[List[Tensor], Tensor]:
        """Every prediction (initial + one per layer) and the mask features."""
        mask_features, memories = self.multi_scale_features(inputs)
        n, d = mask_features.shape[:2]
        mem, pos = [], []
        for i, m in enumerate(memories):
            h, w = m.shape[-2:]
            mem.append(m.flatten(2).transpose(1, 2) + self.level_embed[i].view(1, 1, d))
            pos.append(sine_positional_encoding(h, w, d, device=m.device,
                                                dtype=m.dtype).unsqueeze(0))
        queries = self.query_feat.unsqueeze(0).expand(n, -1, -1)
        query_pos = self.query_pos.unsqueeze(0).expand(n, -1, -1)
        preds = [self.predict_masks(queries, mask_features)]
        for i, layer in enumerate(self.layers):
            lvl = i % len(memories)
            blocked = self.uma_mask(preds[-1], memories[lvl].shape[-2:])
            queries = layer(queries, mem[lvl], query_pos, pos[lvl], blocked)
            preds.append(self.predict_masks(queries, mask_features))
        return preds, mask_features

    def forward(self, inputs: Sequence[Tensor], clip: Optional[ClipContext] = None) -> Tensor:
        """(n, out_channels, h0, w0) logits of the last layer."""
        return self.decode(inputs)[0][-1]

    # ------------------------------------------------------------------ training
    def loss_clip(self, inputs: Sequence[Tensor], clip: ClipContext,
                  labelled_samples: List) -> Tuple[Dict[str, Tensor], Tensor]:
        preds, mask_features = self.decode(inputs)
        clip.extras['decoder_features'] = mask_features
        final = preds[-1]
        lab = clip.labelled_flat
        losses: Dict[str, Tensor] = {}
        if bool(lab.any()):
            losses.update(self.loss_by_feat(final[lab], labelled_samples))
            if self.deep_supervision:
                for i, pred in enumerate(preds[:-1]):
                    for key, value in self.loss_by_feat(pred[lab], labelled_samples).items():
                        if 'loss' in key:
                            losses[f'd{i}.{key}'] = value
        else:
            losses['loss_none'] = final.sum() * 0.0
        if self.loss_temporal is not None:
            size = clip.input_shape or final.shape[-2:]
            full = resize(final, size=size, mode='bilinear', align_corners=self.align_corners)
            losses[self.loss_temporal.loss_name] = self.loss_temporal(clip.unfold(full))
        return losses, final
