"""EchoForge's Temporal Semantic Fusion (TSF) decode head (paper sec. 3.2.2, eqs 3-4).

Named steps, for one target frame with projected features F_t (D, h, w):

``mask_pool`` (eq. 3)
    reference features F_r and reference masks m^r (one map per class, background
    included, N = num_classes maps) -> semantic tokens
    ``t_i = sum_{r,u,v} m_i^r F_r / sum_{r,u,v} m_i^r``. With several reference frames the
    sums run over all of them (one token per class, T_sem is N x D as in the paper). A class
    with no reference pixel takes a learned default token.
``fuse`` (eq. 4, in-context fusion)
    a two-way transformer block: token self-attention, tokens -> target cross-attention,
    token FFN, target -> tokens cross-attention. Gives the semantic prototypes P_sem
    (N x D) and the fused target features F_t' (hw x D). Target pixels carry a 2-D sine
    positional embedding, tokens a learned per-class embedding.
``decode``
    learned queries Q (num_queries x D). Each layer: one self-attention over [Q; P] (the
    queries and prototypes share it, as the EchoForge figure draws); masked cross-attention
    of Q on F_t' (Mask2Former: query q sees only the pixels where its current mask
    sigmoid(m_q) >= 0.5; the first mask comes from the initial queries; a query whose mask
    is empty sees every pixel); FFN on Q and a separate FFN on P.
``combine`` (our design; the paper only says Q_final and P_final "are combined")
    pixel embedding E = Linear(F_t'); query masks m_q = <MLP_q(Q_q), E> / sqrt(D);
    query-to-class assignment A_qk = softmax_k(<W_a Q_q, P_k> / sqrt(D));
    class logit ``S_k = sum_q A_qk m_q / sum_q A_qk  +  <MLP_p(P_k), E> / sqrt(D)
    + conv_seg(F_t')_k``: the assignment-weighted mean of the query masks of class k, plus
    the prototype of class k used as a per-frame 1x1 classifier, plus mmseg's static
    classifier on the fused features. For ``out_channels=1`` (sigmoid, num_classes=2) the
    output is ``S_1 - S_0`` plus the one-channel static classifier.

References (the "memory"):
- training: every frame references the clip's labelled frames other than itself, with
  their ground-truth masks (one-hot, area-downsampled to (h, w)); so an unlabelled frame
  pools from ED and ES, ED from ES and ES from ED. A frame with no other labelled frame
  uses the default tokens.
- inference (no ground truth is read): frames are segmented in clip order. Frame 0 uses
  the learned default tokens (no reference). Frame t > 0 references frame 0 and the
  ``memory_size - 1`` frames before t, with masks = one-hot argmax of their own final
  predictions (one-hot, like the ground truth seen in training).
- so that the no-reference path used for frame 0 is trained, ``loss_clip`` also decodes
  every labelled frame with the default tokens and adds its loss, weighted by
  ``noref_loss_weight`` (keys suffixed ``_noref``).

Training also leaves the fused features F_t' of every frame (B*T, D, h, w), decoded with
the training references, in ``clip.extras['decoder_features']`` for later stages (the
"prediction features" that ``CPRPseudoLabeler(feature_source='decoder')`` reforges).
"""
import math
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from torch import Tensor, nn

from echoseg.registry import MODELS
from ..layers.attention import (CrossAttentionLayer, FFNLayer, SelfAttentionLayer,
                                TwoWayAttentionBlock, sine_positional_encoding)
from ..utils import ClipContext
from .base_temporal_head import BaseTemporalDecodeHead


class _DecoderLayer(nn.Module):
    def __init__(self, dim: int, num_heads: int, ffn_dim: int, dropout: float):
        super().__init__()
        self.self_attn = SelfAttentionLayer(dim, num_heads, dropout)
        self.cross_attn = CrossAttentionLayer(dim, num_heads, dropout)
        self.ffn_query = FFNLayer(dim, ffn_dim, dropout)
        self.ffn_proto = FFNLayer(dim, ffn_dim, dropout)


@MODELS.register_module()
class TSFHead(BaseTemporalDecodeHead):
    """Temporal Semantic Fusion head (EchoForge, eqs 3-4); see the module docstring.

    Args:
        num_queries: learned queries Q.
        num_heads: attention heads (must divide ``channels``).
        num_layers: query/prototype decoder layers after the in-context fusion block.
        ffn_channels: hidden size of every FFN (default 2 x ``channels``).
        memory_size: reference frames at inference (frame 0 plus the latest
            ``memory_size - 1`` earlier frames).
        noref_loss_weight: weight of the loss of labelled frames decoded without
            references (trains the path used for frame 0 at inference); 0 disables it.
        attn_dropout: dropout inside the transformer blocks.
        Other arguments as mmseg's ``BaseDecodeHead`` (``in_channels``, ``channels``,
        ``num_classes``, ``out_channels``, ``in_index``, ``input_transform`` =
        None or 'resize_concat', ``loss_decode``, ...).
    """

    def __init__(self, num_queries: int = 8, num_heads: int = 8, num_layers: int = 2,
                 ffn_channels: Optional[int] = None, memory_size: int = 2,
                 noref_loss_weight: float = 0.5, attn_dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        if self.input_transform == 'multiple_select':
            raise ValueError("TSFHead: input_transform must be None or 'resize_concat'")
        if memory_size < 1:
            raise ValueError(f'TSFHead: memory_size must be >= 1, got {memory_size}')
        if self.out_channels == 1 and self.num_classes != 2:
            raise ValueError('TSFHead: out_channels=1 needs num_classes=2')
        d = self.channels
        if d % num_heads != 0 or d % 4 != 0:
            raise ValueError(f'TSFHead: channels ({d}) must be divisible by num_heads '
                             f'({num_heads}) and by 4')
        ffn = ffn_channels or 2 * d
        self.num_queries = num_queries
        self.memory_size = memory_size
        self.noref_loss_weight = noref_loss_weight
        self.num_tokens = self.num_classes
        self.input_proj = ConvModule(self.in_channels, d, 1, conv_cfg=self.conv_cfg,
                                     norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        self.default_tokens = nn.Parameter(torch.randn(self.num_tokens, d) * 0.02)
        self.token_pos = nn.Parameter(torch.randn(self.num_tokens, d) * 0.02)
        self.fusion = TwoWayAttentionBlock(d, num_heads, ffn, attn_dropout)
        self.pixel_embed = nn.Linear(d, d)
        self.query_feat = nn.Parameter(torch.randn(num_queries, d) * 0.02)
        self.query_pos = nn.Parameter(torch.randn(num_queries, d) * 0.02)
        self.layers = nn.ModuleList(
            _DecoderLayer(d, num_heads, ffn, attn_dropout) for _ in range(num_layers))
        self.query_mask_embed = nn.Sequential(nn.Linear(d, d), nn.ReLU(inplace=True),
                                              nn.Linear(d, d))
        self.proto_embed = nn.Sequential(nn.Linear(d, d), nn.ReLU(inplace=True),
                                         nn.Linear(d, d))
        self.query_assign = nn.Linear(d, d)

    # ------------------------------------------------------------------ features
    def project(self, inputs: Sequence[Tensor]) -> Tensor:
        """Selected level(s) -> (n, D, h, w) features F."""
        return self.input_proj(self._transform_inputs(inputs))

    # ------------------------------------------------------------------ eq. 3
    @staticmethod
    def mask_pool(feats: Tensor, masks: Tensor) -> Tuple[Tensor, Tensor]:
        """(n, D, h, w) features, (n, N, h, w) masks -> (sum m F (n, N, D), sum m (n, N))."""
        return torch.einsum('nkhw,ndhw->nkd', masks, feats), masks.sum(dim=(2, 3))

    def tokens_from_memory(self, sums: Tensor, areas: Tensor, weights: Tensor) -> Tensor:
        """Eq. 3 pooled over reference frames.

        sums (b, R, N, D) and areas (b, R, N) of R candidate frames; weights (b, T, R)
        (1 = frame r is a reference of target t) -> tokens (b, T, N, D). Classes with no
        reference pixel get the learned default token.
        """
        num = torch.einsum('btr,brnd->btnd', weights, sums)
        den = torch.einsum('btr,brn->btn', weights, areas)
        tokens = num / den.clamp_min(1e-6).unsqueeze(-1)
        empty = (den <= 1e-6).unsqueeze(-1)
        return torch.where(empty, self.default_tokens.to(tokens.dtype), tokens)

    def onehot_masks(self, labels: Tensor, size: Tuple[int, int]) -> Tensor:
        """(n, H, W) labels -> (n, N, h, w) area-downsampled one-hot maps (ignore -> 0)."""
        valid = (labels >= 0) & (labels < self.num_classes)
        onehot = F.one_hot(torch.where(valid, labels, torch.zeros_like(labels)),
                           self.num_classes).permute(0, 3, 1, 2).float()
        onehot = onehot * valid.unsqueeze(1)
        if tuple(onehot.shape[-2:]) != tuple(size):
            onehot = F.adaptive_avg_pool2d(onehot, size)
        return onehot

    # ------------------------------------------------------------------ eq. 4 + decoder
    def fuse(self, feats: Tensor, tokens: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """In-context fusion: -> (P_sem (n, N, D), F_t' (n, hw, D), pixel pos (1, hw, D))."""
        n, d, h, w = feats.shape
        x = feats.flatten(2).transpose(1, 2)
        pos = sine_positional_encoding(h, w, d, device=feats.device,
                                       dtype=feats.dtype).unsqueeze(0)
        protos, fused = self.fusion(tokens, x, self.token_pos.unsqueeze(0), pos)
        return protos, fused, pos

    def _query_masks(self, queries: Tensor, pixel_embed: Tensor) -> Tensor:
        scale = 1.0 / math.sqrt(queries.shape[-1])
        return torch.einsum('nqd,npd->nqp', self.query_mask_embed(queries), pixel_embed) * scale

    def segment(self, feats: Tensor, tokens: Tensor) -> Dict[str, Tensor]:
        """Decode (n, D, h, w) target features given (n, N, D) semantic tokens.

        Returns ``logits`` (n, out_channels, h, w) and the intermediates ``class_logits``
        (n, N, h, w), ``protos``, ``queries``, ``query_masks`` (n, Nq, h, w), ``assign``,
        ``features`` (the fused target features F_t' as a map, (n, D, h, w)).
        """
        n, d, h, w = feats.shape
        scale = 1.0 / math.sqrt(d)
        protos, fused, pos = self.fuse(feats, tokens)
        pixel_embed = self.pixel_embed(fused)
        queries = self.query_feat.unsqueeze(0).expand(n, -1, -1)
        query_pos = self.query_pos.unsqueeze(0).expand(n, -1, -1)
        token_pos = self.token_pos.unsqueeze(0).expand(n, -1, -1)
        masks = self._query_masks(queries, pixel_embed)
        nq = queries.shape[1]
        for layer in self.layers:
            joint = layer.self_attn(torch.cat([queries, protos], dim=1),
                                    torch.cat([query_pos, token_pos], dim=1))
            queries, protos = joint[:, :nq], joint[:, nq:]
            blocked = (masks.detach() < 0)  # sigmoid(m) < 0.5
            queries = layer.cross_attn(queries, fused, query_pos, pos, attn_mask=blocked)
            queries = layer.ffn_query(queries)
            protos = layer.ffn_proto(protos)
            masks = self._query_masks(queries, pixel_embed)
        assign = (torch.einsum('nqd,nkd->nqk', self.query_assign(queries), protos)
                  * scale).softmax(dim=-1)
        query_term = torch.einsum('nqk,nqp->nkp', assign, masks) \
            / assign.sum(dim=1).clamp_min(1e-6).unsqueeze(-1)
        proto_term = torch.einsum('nkd,npd->nkp', self.proto_embed(protos), pixel_embed) * scale
        class_logits = (query_term + proto_term).reshape(n, -1, h, w)
        fused_map = fused.transpose(1, 2).reshape(n, d, h, w)
        static = self.cls_seg(fused_map)
        if self.out_channels == 1:
            logits = class_logits[:, 1:2] - class_logits[:, 0:1] + static
        else:
            logits = class_logits + static
        return dict(logits=logits, class_logits=class_logits, protos=protos, queries=queries,
                    query_masks=masks.reshape(n, nq, h, w), assign=assign, features=fused_map)

    # ------------------------------------------------------------------ clip level
    def _reference_weights(self, clip: ClipContext) -> Tensor:
        """(B, T, T): frame t references labelled frame r != t."""
        t = clip.num_frames
        eye = torch.eye(t, dtype=torch.bool, device=clip.device)
        refs = clip.labelled.unsqueeze(1).expand(-1, t, -1) & ~eye
        return refs.float()

    def forward_train(self, inputs: Sequence[Tensor], clip: ClipContext
                      ) -> Tuple[Tensor, Tensor]:
        """Training decode with ground-truth references of labelled frames.

        Returns (logits of every frame, no-reference logits of the labelled frames).
        """
        feats = self.project(inputs)
        n, d, h, w = feats.shape
        labelled = clip.labelled_flat
        masks = feats.new_zeros(n, self.num_tokens, h, w)
        if bool(labelled.any()):
            gt = clip.fold(clip.gt_masks)[labelled].long()
            masks[labelled] = self.onehot_masks(gt, (h, w)).to(feats.dtype)
        sums, areas = self.mask_pool(feats, masks)
        tokens = self.tokens_from_memory(clip.unfold(sums), clip.unfold(areas),
                                         self._reference_weights(clip).to(feats.dtype))
        out = self.segment(feats, clip.fold(tokens))
        logits = out['logits']
        # the fused features F_t' from which every frame's prediction is made, for later
        # stages (CPRPseudoLabeler with feature_source='decoder')
        clip.extras['decoder_features'] = out['features']
        noref = None
        if self.noref_loss_weight > 0 and bool(labelled.any()):
            lab_feats = feats[labelled]
            default = self.default_tokens.unsqueeze(0).expand(lab_feats.shape[0], -1, -1)
            noref = self.segment(lab_feats, default)['logits']
        return logits, noref

    def memory_masks(self, logits: Tensor) -> Tensor:
        """Predicted (n, K or 1, h, w) logits -> one-hot (n, N, h, w) reference masks."""
        if logits.shape[1] == 1:
            labels = (logits[:, 0].sigmoid() > self.threshold).long()
        else:
            labels = logits.argmax(dim=1)
        return F.one_hot(labels, self.num_classes).permute(0, 3, 1, 2).to(logits.dtype)

    def reference_frames(self, t: int) -> List[int]:
        """Inference memory of frame t: frame 0 and the ``memory_size - 1`` latest frames."""
        if t == 0:
            return []
        recent = list(range(max(1, t - self.memory_size + 1), t))
        return [0] + recent

    def forward_infer(self, inputs: Sequence[Tensor], clip: ClipContext) -> Tensor:
        """Causal inference over the clip; reads no ground truth."""
        feats = clip.unfold(self.project(inputs))  # (B, T, D, h, w)
        b, t = feats.shape[:2]
        sums, areas, logits = [], [], []
        for i in range(t):
            refs = self.reference_frames(i)
            if refs:
                weights = feats.new_zeros(b, 1, i)
                weights[:, :, refs] = 1.0
                tokens = self.tokens_from_memory(torch.stack(sums, 1), torch.stack(areas, 1),
                                                 weights)[:, 0]
            else:
                tokens = self.default_tokens.unsqueeze(0).expand(b, -1, -1)
            out = self.segment(feats[:, i], tokens)['logits']
            s, a = self.mask_pool(feats[:, i], self.memory_masks(out.detach()))
            sums.append(s)
            areas.append(a)
            logits.append(out)
        return clip.fold(torch.stack(logits, dim=1))

    def forward(self, inputs: Sequence[Tensor], clip: ClipContext) -> Tensor:
        """(B*T, out_channels, h, w) logits: training references when the head is training
        and ground truth is given, the causal inference memory otherwise."""
        if self.training and clip.gt_masks is not None:
            return self.forward_train(inputs, clip)[0]
        return self.forward_infer(inputs, clip)

    def loss_clip(self, inputs: Sequence[Tensor], clip: ClipContext,
                  labelled_samples: List) -> Tuple[Dict[str, Tensor], Tensor]:
        logits, noref = self.forward_train(inputs, clip)
        labelled = clip.labelled_flat
        if not bool(labelled.any()):
            return {'loss_tsf_none': logits.sum() * 0.0}, logits
        losses = self.loss_by_feat(logits[labelled], labelled_samples)
        if noref is not None:
            for key, value in self.loss_by_feat(noref, labelled_samples).items():
                if 'loss' in key:
                    losses[f'{key}_noref'] = value * self.noref_loss_weight
        return losses, logits

    def predict_clip(self, inputs: Sequence[Tensor], clip: ClipContext) -> Tensor:
        return self.forward_infer(inputs, clip)
