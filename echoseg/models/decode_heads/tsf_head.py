"""EchoForge's Temporal Semantic Fusion (TSF) decode head (paper sec. 3.2.2, eqs 3-4).

Features. Without ``pixel_decoder`` the selected level(s) are projected to D = ``channels``
by a 1x1 conv, giving F_t, and the masks are made on F_t' itself (``E = Linear(F_t')``):
the logits have the resolution of the encoder level (the earlier model, kept as the
variant EchoForge-ND). With ``pixel_decoder`` (a registered module called on the selected
levels and returning ``(mask_features, multi_scale_features)``, e.g. mmdet's
``MSDeformAttnPixelDecoder``; ``input_transform='multiple_select'``) the decoder runs at
TSF's width D (its ``in_channels``, ``feat_channels``, ``out_channels`` and, where its
config has them, the encoder's ``embed_dims`` and the positional encoding's ``num_feats``
are filled in from the head), F_t is its output level ``tsf_level`` (0: the coarsest) and
the masks are made on its mask features (stride 4 for four input levels), as in
Mask2Former: ``E = mask_features``.

Named steps, for one target frame with features F_t (D, h, w):

``mask_pool`` (eq. 3)
    reference features F_r and reference masks m^r (one map per class, background
    included, N = num_classes maps) -> semantic tokens
    ``t_i = sum_{r,u,v} m_i^r F_r / sum_{r,u,v} m_i^r``, T_sem (N x D). With several
    reference frames the sums run over all of them. A class with no reference pixel takes
    a learned default token.
``fuse`` (eq. 4, in-context fusion)
    a two-way transformer block: slot self-attention, slots -> target cross-attention,
    slot FFN, target -> slots cross-attention ("these tokens and the target feature serve
    as keys and values for one another"). Gives the semantic prototypes P_sem and the fused
    target features F_t' (hw x D).
    ``prototypes='per_query'`` (the paper: P_sem is N_q x D): N_q prototype slots, slot j
    belongs to class ``c_j = j mod N`` and enters as ``t_{c_j} + e_j`` (e_j a learned slot
    embedding, so the slots of one class can specialise); ``'per_class'``: N slots, one per
    token (the earlier design).
``decode``
    learned queries Q (N_q x D). ``self_attention='separate'`` (the text):
    ``Q' = SelfAttn(Q)``, ``P^ = SelfAttn(P_sem)``; ``'joint'``: one self-attention over
    [Q; P] (the earlier reading of the figure). Then masked cross-attention of Q' on F_t'
    and ``Q_final = FFN(Q^)``, ``P_final = FFN(P^)``; ``num_layers`` rounds.
``combine`` (ours; the paper says Q_final and P_final "are combined to generate the
prediction masks")
    per_query: query j and prototype j are a pair; pixel embedding E (above),
    ``m_j = <MLP(Q_j + P_j), E> / sqrt(D)`` and the class logit is the mean of the masks of
    the class's slots, ``S_k = mean_{j: c_j = k} m_j``. The masked attention of query j
    sees the pixels currently predicted as its class c_j (argmax of S from the previous
    round, area-averaged to F_t's size when E is finer; a query whose class has no pixel
    sees every pixel).
    per_class: ``S_k = sum_q A_qk m_q / sum_q A_qk + <MLP_p(P_k), E> / sqrt(D)`` with
    ``A = softmax_k(<W Q_q, P_k>)``; query q's mask is ``sigmoid(m_q) >= 0.5``.
    ``static_classifier=True`` adds mmseg's ``conv_seg(F_t')`` (the earlier design; it
    bypasses queries and prototypes). ``out_channels=1`` (sigmoid, N = 2): ``S_1 - S_0``.

References (the paper: "reference feature map extracted from the memory" with "its
associated mask annotation"); ``reference_mode``:

- ``'two_pass'`` (default; the same in training and inference, no ground truth read): pass 1
  decodes every frame with the learned default tokens; the references are the clip's
  ``reference_frames`` (default the first and last frame: ED and ES in the papers' clips)
  with the one-hot masks of their pass-1 predictions; pass 2 decodes every frame with the
  tokens pooled from them. Both passes of the labelled frames are supervised (pass 1 with
  ``noref_loss_weight``, keys suffixed ``_noref``).
- ``'two_pass_gt'``: as two_pass at inference; in training the reference masks of labelled
  reference frames are their ground truth (the scheme a memory network is usually trained
  with).
- ``'causal'`` (the earlier design): training references are the *other* labelled frames'
  ground-truth masks; inference decodes in clip order, frame 0 with the default tokens,
  frame t from frame 0 and the ``memory_size - 1`` latest frames' predicted masks.

Per-video memory (inference on a long video, window after window; ``clip.extras
['video_memory']``, :class:`echoseg.models.utils.VideoMemory`): in ``'causal'`` mode the
memory keeps the pooled tokens (eq. 3 sums) of the video's frame 0 and of its latest
``memory_size - 1`` frames, so frame t of any window references frame 0 and frames
t - memory_size + 1 .. t - 1 of the *video*, as in a single pass over the whole video;
in the two-pass modes it keeps the pass-1 pooled tokens of the video's first frame, which
every later window adds to its own reference positions (a window far into the video keeps
the first frame's reference, as a short clip has it). Memory use is constant in the video
length. ``memory.references`` records the video frames each frame of the last window
referenced.

Training leaves the "prediction features" of every frame in ``clip.extras
['decoder_features']`` for later stages (what ``CPRPseudoLabeler(decoder_channels=...)``
reforges): ``cpr_features='fused'`` the fused features F_t' (B*T, D, h, w) of the last
pass, ``'mask'`` the pixel decoder's mask features E (B*T, D, H/4, W/4), from which the
masks are made.
"""
import copy
import math
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.config import ConfigDict
from torch import Tensor, nn

from echoseg.registry import MODELS
from ..layers.attention import (CrossAttentionLayer, FFNLayer, SelfAttentionLayer,
                                TwoWayAttentionBlock, sine_positional_encoding)
from ..utils import ClipContext, VideoMemory, video_memory_of
from .base_temporal_head import BaseTemporalDecodeHead


class _DecoderLayer(nn.Module):
    def __init__(self, dim: int, num_heads: int, ffn_dim: int, dropout: float,
                 separate: bool):
        super().__init__()
        self.self_attn = SelfAttentionLayer(dim, num_heads, dropout)
        self.proto_self_attn = SelfAttentionLayer(dim, num_heads, dropout) if separate else None
        self.cross_attn = CrossAttentionLayer(dim, num_heads, dropout)
        self.ffn_query = FFNLayer(dim, ffn_dim, dropout)
        self.ffn_proto = FFNLayer(dim, ffn_dim, dropout)


@MODELS.register_module()
class TSFHead(BaseTemporalDecodeHead):
    """Temporal Semantic Fusion head (EchoForge, eqs 3-4); see the module docstring.

    Args:
        num_queries: learned queries Q (N_q; with per-query prototypes also the number of
            prototype slots, at least ``num_classes``).
        num_heads: attention heads (must divide ``channels``).
        num_layers: query/prototype decoder rounds after the in-context fusion block.
        ffn_channels: hidden size of every FFN (default 2 x ``channels``).
        prototypes: ``'per_query'`` (P_sem is N_q x D) or ``'per_class'``.
        self_attention: ``'separate'`` (SelfAttn(Q), SelfAttn(P)) or ``'joint'``.
        static_classifier: add mmseg's ``conv_seg`` on F_t' to the logits.
        reference_mode: ``'two_pass'``, ``'two_pass_gt'`` or ``'causal'``.
        reference_frames: clip positions used as references in the two-pass modes.
        memory_size: causal mode: reference frames at inference (frame 0 plus the latest
            ``memory_size - 1`` earlier frames).
        noref_loss_weight: weight of the loss of labelled frames decoded without
            references (pass 1; in causal mode the path of frame 0); 0 disables it.
        attn_dropout: dropout inside the transformer blocks.
        pixel_decoder: config of a pixel decoder (see the module docstring) or None.
        tsf_level: which of the pixel decoder's multi-scale outputs is F_t (0: coarsest).
        cpr_features: ``'fused'`` (F_t') or ``'mask'`` (the pixel decoder's mask features)
            in ``clip.extras['decoder_features']``.
        Other arguments as mmseg's ``BaseDecodeHead`` (``in_channels``, ``channels``,
        ``num_classes``, ``out_channels``, ``in_index``, ``input_transform`` =
        None or 'resize_concat' (``'multiple_select'`` with a pixel decoder),
        ``loss_decode``, ...).
    """

    PROTOTYPES = ('per_query', 'per_class')
    #: keeps a per-video memory across inference windows (``EchoVideoSegmentor``)
    uses_video_memory = True
    MEMORY_CAUSAL = 'tsf_causal'
    MEMORY_ANCHOR = 'tsf_first_frame'
    SELF_ATTENTION = ('separate', 'joint')
    REFERENCE_MODES = ('two_pass', 'two_pass_gt', 'causal')
    CPR_FEATURES = ('fused', 'mask')

    def __init__(self, num_queries: int = 8, num_heads: int = 8, num_layers: int = 1,
                 ffn_channels: Optional[int] = None, prototypes: str = 'per_query',
                 self_attention: str = 'separate', static_classifier: bool = False,
                 reference_mode: str = 'two_pass',
                 reference_frames: Sequence[int] = (0, -1), memory_size: int = 2,
                 noref_loss_weight: float = 0.5, attn_dropout: float = 0.0,
                 pixel_decoder: Optional[dict] = None, tsf_level: int = 0,
                 cpr_features: str = 'fused', **kwargs):
        super().__init__(**kwargs)
        for name, value, allowed in (('prototypes', prototypes, self.PROTOTYPES),
                                     ('self_attention', self_attention, self.SELF_ATTENTION),
                                     ('reference_mode', reference_mode,
                                      self.REFERENCE_MODES),
                                     ('cpr_features', cpr_features, self.CPR_FEATURES)):
            if value not in allowed:
                raise ValueError(f'TSFHead: {name} must be one of {allowed}, got {value!r}')
        if pixel_decoder is None:
            if self.input_transform == 'multiple_select':
                raise ValueError("TSFHead: input_transform must be None or 'resize_concat' "
                                 "without a pixel_decoder")
            if cpr_features == 'mask':
                raise ValueError("TSFHead: cpr_features='mask' needs a pixel_decoder")
        elif self.input_transform != 'multiple_select':
            raise ValueError("TSFHead: a pixel_decoder reads several levels: set "
                             "input_transform='multiple_select' and list in_index / "
                             "in_channels")
        if memory_size < 1:
            raise ValueError(f'TSFHead: memory_size must be >= 1, got {memory_size}')
        if self.out_channels == 1 and self.num_classes != 2:
            raise ValueError('TSFHead: out_channels=1 needs num_classes=2')
        if prototypes == 'per_query' and num_queries < self.num_classes:
            raise ValueError(f'TSFHead: per-query prototypes need num_queries '
                             f'({num_queries}) >= num_classes ({self.num_classes})')
        if not reference_frames:
            raise ValueError('TSFHead: reference_frames must name at least one position')
        d = self.channels
        if d % num_heads != 0 or d % 4 != 0:
            raise ValueError(f'TSFHead: channels ({d}) must be divisible by num_heads '
                             f'({num_heads}) and by 4')
        ffn = ffn_channels or 2 * d
        self.num_queries = num_queries
        self.prototypes = prototypes
        self.self_attention = self_attention
        self.static_classifier = static_classifier
        self.reference_mode = reference_mode
        self.reference_positions = tuple(int(i) for i in reference_frames)
        self.memory_size = memory_size
        self.noref_loss_weight = noref_loss_weight
        self.num_tokens = self.num_classes
        num_slots = num_queries if prototypes == 'per_query' else self.num_classes
        self.tsf_level = int(tsf_level)
        self.cpr_features = cpr_features
        if pixel_decoder is None:
            self.pixel_decoder = None
            self.input_proj = ConvModule(self.in_channels, d, 1, conv_cfg=self.conv_cfg,
                                         norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        else:
            num_outs = pixel_decoder.get('num_outs')
            if num_outs is not None and not 0 <= self.tsf_level < num_outs:
                raise ValueError(f'TSFHead: tsf_level={tsf_level} must name one of the pixel '
                                 f"decoder's {num_outs} output levels (0 .. {num_outs - 1})")
            self.pixel_decoder = MODELS.build(self.pixel_decoder_cfg(pixel_decoder))
        self.default_tokens = nn.Parameter(torch.randn(self.num_tokens, d) * 0.02)
        self.token_pos = nn.Parameter(torch.randn(num_slots, d) * 0.02)
        if prototypes == 'per_query':
            self.slot_embed = nn.Parameter(torch.randn(num_slots, d) * 0.02)
            slot_class = torch.arange(num_slots) % self.num_classes
            self.register_buffer('slot_class', slot_class, persistent=False)
            # (N_q, N): mean over the slots of each class
            member = F.one_hot(slot_class, self.num_classes).float()
            self.register_buffer('slot_mean', member / member.sum(0, keepdim=True),
                                 persistent=False)
        self.fusion = TwoWayAttentionBlock(d, num_heads, ffn, attn_dropout)
        # without a pixel decoder the masks are made on F_t' itself
        self.pixel_embed = nn.Linear(d, d) if pixel_decoder is None else None
        self.query_feat = nn.Parameter(torch.randn(num_queries, d) * 0.02)
        self.query_pos = nn.Parameter(torch.randn(num_queries, d) * 0.02)
        self.layers = nn.ModuleList(
            _DecoderLayer(d, num_heads, ffn, attn_dropout, self_attention == 'separate')
            for _ in range(num_layers))
        self.query_mask_embed = nn.Sequential(nn.Linear(d, d), nn.ReLU(inplace=True),
                                              nn.Linear(d, d))
        if prototypes == 'per_class':
            self.proto_embed = nn.Sequential(nn.Linear(d, d), nn.ReLU(inplace=True),
                                             nn.Linear(d, d))
            self.query_assign = nn.Linear(d, d)
        if not static_classifier:
            self.remove_conv_seg()  # without the static classifier it does not exist

    # ------------------------------------------------------------------ features
    def pixel_decoder_cfg(self, cfg: dict) -> ConfigDict:
        """The pixel decoder's config at TSF's width: the head's ``in_channels`` and
        ``channels`` filled in (a value the config gives must agree)."""
        cfg = ConfigDict(copy.deepcopy(dict(cfg)))
        if str(cfg.get('type', '')).startswith('mmdet.'):
            try:
                import mmdet  # noqa: F401
            except ImportError as exc:
                raise ImportError(f'TSFHead: pixel_decoder {cfg.type} needs MMDetection '
                                  '(pip install mmdet==3.3.0, which tools/setup_env.sh '
                                  'installs)') from exc
        d = self.channels
        fills = [(cfg, 'in_channels', list(self.in_channels)), (cfg, 'feat_channels', d),
                 (cfg, 'out_channels', d)]
        layer = (cfg.get('encoder') or {}).get('layer_cfg')
        if layer is not None:
            fills += [(layer.self_attn_cfg, 'embed_dims', d), (layer.ffn_cfg, 'embed_dims', d)]
        if cfg.get('positional_encoding') is not None:
            fills.append((cfg.positional_encoding, 'num_feats', d // 2))
        for where, key, value in fills:
            given = where.get(key)
            if given is None:
                where[key] = value
            elif (list(given) if isinstance(given, (list, tuple)) else given) != value:
                raise ValueError(f'TSFHead: pixel_decoder {key}={given} does not fit the head '
                                 f'(in_channels={list(self.in_channels)}, channels={d}); '
                                 'leave it out to have it filled in')
        return cfg

    def encode(self, inputs: Sequence[Tensor]) -> Tuple[Tensor, Optional[Tensor]]:
        """Selected level(s) -> (F (n, D, h, w), mask features E (n, D, H', W') or None)."""
        x = self._transform_inputs(inputs)
        if self.pixel_decoder is None:
            return self.input_proj(x), None
        mask_feats, levels = self.pixel_decoder(list(x))
        feats = levels[self.tsf_level]
        for name, t in (('mask features', mask_feats), (f'level {self.tsf_level}', feats)):
            if t.shape[1] != self.channels:
                raise ValueError(f'TSFHead: the pixel decoder gives {name} with '
                                 f'{t.shape[1]} channels, the head works at {self.channels}')
        return feats, mask_feats

    def project(self, inputs: Sequence[Tensor]) -> Tensor:
        """Selected level(s) -> (n, D, h, w) features F_t."""
        return self.encode(inputs)[0]

    # ------------------------------------------------------------------ eq. 3
    @staticmethod
    def mask_pool(feats: Tensor, masks: Tensor) -> Tuple[Tensor, Tensor]:
        """(n, D, h, w) features, (n, N, h', w') masks -> (sum m F (n, N, D), sum m (n, N)).

        Masks finer than the features (made on the mask features) are area-averaged to
        (h, w) first."""
        if tuple(masks.shape[-2:]) != tuple(feats.shape[-2:]):
            masks = F.adaptive_avg_pool2d(masks, feats.shape[-2:])
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
    def slots(self, tokens: Tensor) -> Tensor:
        """(n, N, D) semantic tokens -> the (n, S, D) prototype slots entering the fusion."""
        if self.prototypes == 'per_query':
            return tokens[:, self.slot_class] + self.slot_embed.to(tokens.dtype)
        return tokens

    def fuse(self, feats: Tensor, tokens: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """In-context fusion: -> (P_sem (n, S, D), F_t' (n, hw, D), pixel pos (1, hw, D))."""
        n, d, h, w = feats.shape
        x = feats.flatten(2).transpose(1, 2)
        pos = sine_positional_encoding(h, w, d, device=feats.device,
                                       dtype=feats.dtype).unsqueeze(0)
        protos, fused = self.fusion(self.slots(tokens), x, self.token_pos.unsqueeze(0), pos)
        return protos, fused, pos

    def _query_masks(self, embed: Tensor, pixel_embed: Tensor) -> Tensor:
        scale = 1.0 / math.sqrt(embed.shape[-1])
        return torch.einsum('nqd,npd->nqp', self.query_mask_embed(embed), pixel_embed) * scale

    def _masks_and_classes(self, queries: Tensor, protos: Tensor, pixel_embed: Tensor
                           ) -> Tuple[Tensor, Tensor, Optional[Tensor]]:
        """-> query masks (n, Nq, hw), class logits (n, N, hw), assignment (per_class)."""
        if self.prototypes == 'per_query':
            masks = self._query_masks(queries + protos, pixel_embed)
            classes = torch.einsum('nqp,qk->nkp', masks, self.slot_mean.to(masks.dtype))
            return masks, classes, None
        scale = 1.0 / math.sqrt(queries.shape[-1])
        masks = self._query_masks(queries, pixel_embed)
        assign = (torch.einsum('nqd,nkd->nqk', self.query_assign(queries), protos)
                  * scale).softmax(dim=-1)
        query_term = torch.einsum('nqk,nqp->nkp', assign, masks) \
            / assign.sum(dim=1).clamp_min(1e-6).unsqueeze(-1)
        proto_term = torch.einsum('nkd,npd->nkp', self.proto_embed(protos), pixel_embed) * scale
        return masks, query_term + proto_term, assign

    def _attention_mask(self, masks: Tensor, classes: Tensor,
                        mask_size: Optional[Tuple[int, int]] = None,
                        size: Optional[Tuple[int, int]] = None) -> Tensor:
        """(n, Nq, hw) bool, True where query q may not look (masked attention).

        Masks made at ``mask_size`` are area-averaged to the attended features' ``size``."""
        if mask_size is not None and tuple(mask_size) != tuple(size):
            def pool(x):
                return F.adaptive_avg_pool2d(x.reshape(*x.shape[:2], *mask_size),
                                             size).flatten(2)
            masks = None if masks is None else pool(masks)
            classes = pool(classes)
        if self.prototypes == 'per_query':
            current = classes.detach().argmax(dim=1)  # (n, hw)
            return current.unsqueeze(1) != self.slot_class.view(1, -1, 1)
        return masks.detach() < 0  # sigmoid(m) < 0.5

    def segment(self, feats: Tensor, tokens: Tensor,
                mask_feats: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Decode (n, D, h, w) target features given (n, N, D) semantic tokens.

        ``mask_feats`` (n, D, H', W'): the pixel decoder's mask features E, on which the
        masks are made (required with a pixel decoder; without one E = Linear(F_t')).
        Returns ``logits`` (n, out_channels, H', W') and the intermediates ``class_logits``
        (n, N, H', W'), ``protos``, ``queries``, ``query_masks`` (n, Nq, H', W'),
        ``assign`` (per_class only), ``features`` (the fused target features F_t' as an
        (n, D, h, w) map).
        """
        n, d, h, w = feats.shape
        protos, fused, pos = self.fuse(feats, tokens)
        if self.pixel_embed is not None:
            pixel_embed, mask_size = self.pixel_embed(fused), (h, w)
        elif mask_feats is None:
            raise ValueError('TSFHead.segment: a head with a pixel decoder needs its '
                             'mask features (mask_feats)')
        else:
            pixel_embed = mask_feats.flatten(2).transpose(1, 2)
            mask_size = tuple(mask_feats.shape[-2:])
        queries = self.query_feat.unsqueeze(0).expand(n, -1, -1)
        query_pos = self.query_pos.unsqueeze(0).expand(n, -1, -1)
        token_pos = self.token_pos.unsqueeze(0).expand(n, -1, -1)
        masks, classes, assign = self._masks_and_classes(queries, protos, pixel_embed)
        nq = queries.shape[1]
        for layer in self.layers:
            if layer.proto_self_attn is None:
                joint = layer.self_attn(torch.cat([queries, protos], dim=1),
                                        torch.cat([query_pos, token_pos], dim=1))
                queries, protos = joint[:, :nq], joint[:, nq:]
            else:
                queries = layer.self_attn(queries, query_pos)
                protos = layer.proto_self_attn(protos, token_pos)
            queries = layer.cross_attn(
                queries, fused, query_pos, pos,
                attn_mask=self._attention_mask(masks, classes, mask_size, (h, w)))
            queries = layer.ffn_query(queries)
            protos = layer.ffn_proto(protos)
            masks, classes, assign = self._masks_and_classes(queries, protos, pixel_embed)
        class_logits = classes.reshape(n, -1, *mask_size)
        fused_map = fused.transpose(1, 2).reshape(n, d, h, w)
        if self.out_channels == 1:
            logits = class_logits[:, 1:2] - class_logits[:, 0:1]
        else:
            logits = class_logits
        if self.static_classifier:
            logits = logits + self.cls_seg(fused_map if mask_feats is None else mask_feats)
        return dict(logits=logits, class_logits=class_logits, protos=protos, queries=queries,
                    query_masks=masks.reshape(n, nq, *mask_size), assign=assign,
                    features=fused_map)

    # ------------------------------------------------------------------ references
    def memory_masks(self, logits: Tensor) -> Tensor:
        """Predicted (n, K or 1, h, w) logits -> one-hot (n, N, h, w) reference masks."""
        if logits.shape[1] == 1:
            labels = (logits[:, 0].sigmoid() > self.threshold).long()
        else:
            labels = logits.argmax(dim=1)
        return F.one_hot(labels, self.num_classes).permute(0, 3, 1, 2).to(logits.dtype)

    def reference_positions_of(self, num_frames: int) -> List[int]:
        """Two-pass modes: the clip positions whose masks give the tokens (deduplicated)."""
        return sorted({p % num_frames for p in self.reference_positions})

    def _reference_weights(self, clip: ClipContext) -> Tensor:
        """Causal mode, training: (B, T, T), frame t references labelled frame r != t."""
        t = clip.num_frames
        eye = torch.eye(t, dtype=torch.bool, device=clip.device)
        refs = clip.labelled.unsqueeze(1).expand(-1, t, -1) & ~eye
        return refs.float()

    def _two_pass_weights(self, clip: ClipContext, dtype) -> Tensor:
        """Two-pass modes: (B, T, T), every frame references the reference positions."""
        t = clip.num_frames
        weights = torch.zeros(clip.batch_size, t, t, device=clip.device, dtype=dtype)
        weights[:, :, self.reference_positions_of(t)] = 1.0
        return weights

    def _decode_default(self, feats: Tensor, mask_feats: Optional[Tensor] = None
                        ) -> Dict[str, Tensor]:
        default = self.default_tokens.unsqueeze(0).expand(feats.shape[0], -1, -1)
        return self.segment(feats, default, mask_feats)

    def two_pass(self, feats: Tensor, clip: ClipContext, gt_references: bool = False,
                 mask_feats: Optional[Tensor] = None
                 ) -> Tuple[Dict[str, Tensor], Dict[str, Tensor]]:
        """Pass 1 without references, pass 2 with the reference frames' masks.

        ``gt_references``: labelled reference frames use their ground-truth masks (training
        in ``'two_pass_gt'`` mode); otherwise the one-hot pass-1 predictions. With a
        per-video memory the video's first frame is a reference too.
        """
        n, _, h, w = feats.shape
        first = self._decode_default(feats, mask_feats)
        masks = self.memory_masks(first['logits'].detach())
        if gt_references and clip.gt_masks is not None:
            use = clip.labelled_flat
            if bool(use.any()):
                gt = clip.fold(clip.gt_masks)[use].long()
                masks = masks.clone()
                masks[use] = self.onehot_masks(gt, masks.shape[-2:]).to(masks.dtype)
        sums, areas = self.mask_pool(feats, masks)
        sums, areas = clip.unfold(sums), clip.unfold(areas)
        weights = self._two_pass_weights(clip, feats.dtype)
        memory = video_memory_of(clip)
        if memory is not None:
            sums, areas, weights = self._with_first_frame(memory, sums, areas, weights)
        tokens = self.tokens_from_memory(sums, areas, weights)
        second = self.segment(feats, clip.fold(tokens), mask_feats)
        return first, second

    def _with_first_frame(self, memory: VideoMemory, sums: Tensor, areas: Tensor,
                          weights: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """Two-pass modes with a per-video memory: the video's first frame (its pass-1
        pooled tokens, kept from the first window) becomes a reference of every frame."""
        start, t = memory.window_start, sums.shape[1]
        positions = [start + p for p in self.reference_positions_of(t)]
        if start == 0 or self.MEMORY_ANCHOR not in memory:
            memory.put(self.MEMORY_ANCHOR, (sums[:, 0].detach().clone(),
                                            areas[:, 0].detach().clone()))
            refs = sorted({start} | set(positions)) if start == 0 else positions
            memory.record_references(self.MEMORY_ANCHOR,
                                     {start + i: refs for i in range(t)})
            return sums, areas, weights
        first_sums, first_areas = memory.get(self.MEMORY_ANCHOR)
        sums = torch.cat([first_sums.unsqueeze(1), sums], dim=1)
        areas = torch.cat([first_areas.unsqueeze(1), areas], dim=1)
        weights = torch.cat([weights.new_ones(weights.shape[0], t, 1), weights], dim=2)
        memory.record_references(self.MEMORY_ANCHOR,
                                 {start + i: [0] + positions for i in range(t)})
        return sums, areas, weights

    # ------------------------------------------------------------------ clip level
    def forward_train(self, inputs: Sequence[Tensor], clip: ClipContext
                      ) -> Tuple[Tensor, Optional[Tensor]]:
        """Training decode -> (logits of every frame, no-reference logits of the labelled
        frames or None)."""
        feats, mask_feats = self.encode(inputs)
        labelled = clip.labelled_flat
        if self.reference_mode != 'causal':
            first, out = self.two_pass(feats, clip, self.reference_mode == 'two_pass_gt',
                                       mask_feats)
            self._leave_features(clip, out, mask_feats)
            noref = first['logits'][labelled] \
                if self.noref_loss_weight > 0 and bool(labelled.any()) else None
            return out['logits'], noref
        n, d, h, w = feats.shape
        masks = feats.new_zeros(n, self.num_tokens, h, w)
        if bool(labelled.any()):
            gt = clip.fold(clip.gt_masks)[labelled].long()
            masks[labelled] = self.onehot_masks(gt, (h, w)).to(feats.dtype)
        sums, areas = self.mask_pool(feats, masks)
        tokens = self.tokens_from_memory(clip.unfold(sums), clip.unfold(areas),
                                         self._reference_weights(clip).to(feats.dtype))
        out = self.segment(feats, clip.fold(tokens), mask_feats)
        self._leave_features(clip, out, mask_feats)
        noref = None
        if self.noref_loss_weight > 0 and bool(labelled.any()):
            noref = self._decode_default(
                feats[labelled], None if mask_feats is None else mask_feats[labelled])['logits']
        return out['logits'], noref

    def _leave_features(self, clip: ClipContext, out: Dict[str, Tensor],
                        mask_feats: Optional[Tensor]) -> None:
        """The prediction features of every frame for a pseudo-labeler (CPR)."""
        clip.extras['decoder_features'] = \
            mask_feats if self.cpr_features == 'mask' else out['features']

    def reference_frames(self, t: int) -> List[int]:
        """Causal mode: inference memory of frame t (frame 0 and the latest frames)."""
        if t == 0:
            return []
        recent = list(range(max(1, t - self.memory_size + 1), t))
        return [0] + recent

    def forward_infer(self, inputs: Sequence[Tensor], clip: ClipContext) -> Tensor:
        """Inference over the clip; reads no ground truth."""
        feats, mask_feats = self.encode(inputs)
        if self.reference_mode != 'causal':
            return self.two_pass(feats, clip, mask_feats=mask_feats)[1]['logits']
        feats = clip.unfold(feats)  # (B, T, D, h, w)
        if mask_feats is not None:
            mask_feats = clip.unfold(mask_feats)
        b, t = feats.shape[:2]
        memory = video_memory_of(clip)
        start = memory.window_start if memory is not None else 0
        # video frame index -> pooled (sums, areas) of its predicted mask; frame 0 and the
        # latest memory_size - 1 frames are all any later frame references
        bank = dict(memory.get(self.MEMORY_CAUSAL) or {}) \
            if memory is not None and start > 0 else {}
        logits, used = [], {}
        for i in range(t):
            g = start + i
            refs = self.reference_frames(g)
            missing = [r for r in refs if r not in bank]
            if missing:
                raise RuntimeError(f'TSFHead: frame {g} references frames {missing} that '
                                   'the per-video memory does not hold (windows must be '
                                   'fed in order without gaps)')
            if refs:
                tokens = self.tokens_from_memory(
                    torch.stack([bank[r][0] for r in refs], 1),
                    torch.stack([bank[r][1] for r in refs], 1),
                    feats.new_ones(b, 1, len(refs)))[:, 0]
            else:
                tokens = self.default_tokens.unsqueeze(0).expand(b, -1, -1)
            out = self.segment(feats[:, i], tokens,
                               None if mask_feats is None else mask_feats[:, i])['logits']
            bank[g] = self.mask_pool(feats[:, i], self.memory_masks(out.detach()))
            keep = {0} | set(range(g - self.memory_size + 2, g + 1))
            bank = {k: v for k, v in bank.items() if k in keep}
            used[g] = refs
            logits.append(out)
        if memory is not None:
            memory.put(self.MEMORY_CAUSAL, bank)
            memory.record_references(self.MEMORY_CAUSAL, used)
        return clip.fold(torch.stack(logits, dim=1))

    def forward(self, inputs: Sequence[Tensor], clip: ClipContext) -> Tensor:
        """(B*T, out_channels, h, w) logits: the training decode when the head is training
        and ground truth is given, the inference decode otherwise."""
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
