"""PKEcho-Net's Kernel-based Semi-supervised Segmentation (KSS) head (paper sec. "Kernel-
based Semi-supervised Segmentation", Fig. 4, eqs 1-4, 6).

For the B clips of T frames (N = B*T frames folded into the batch) and c mask channels:

- **Predictor.** ``F_r = ReLU(BN(conv3x3(F_N)))`` reduces the selected level to d =
  ``channels``; ``P^0 = conv1x1(F_r)`` (mmseg's ``conv_seg``), and the first kernel k^0 is
  that 1x1 conv's weight, one (c, d) kernel per frame.
- **Stage i = 1..S** (``num_stages``, the paper's 3):

  - eq. 1, grouping: ``F_g = sum_xy sigmoid(P^{i-1}) F_r / (h w)`` (c tokens per frame;
    the division by the constant h*w is ours, see the doc page);
  - eq. 2-3, hybrid attention: ``k_e = LN(MHA(F_g, k, k) + F_g) + LN(MHA(k, F_g, F_g) + k)``;
  - eq. 4, temporal self-attention over the T frames of each clip (per class token, a
    learned temporal position embedding added to queries and keys), then attention
    across videos (see ``cross_video``), then an FFN: ``k^i = LN(FFN(k) + k)``;
  - the per-frame dynamic 1x1 conv ``P^i = k^i * F_r + b_i``.

- **Upsampling (eq. 5).** Every P^i goes to the input resolution through the clip's
  logit upsampler when the neck left one (``MRPNeck``), otherwise it is resized
  bilinearly when the loss is computed (mmseg's convention).
- **Deep supervision (eq. 6).** ``loss_clip`` applies every ``loss_decode`` to every stage
  P^0..P^S on the labelled frames and sums them (logged ``s{i}.<loss name>``); losses
  with a ``distance_maps`` method (``BoundaryLoss``) get their maps computed once for all
  stages.

``cross_video`` (the paper: "self-attention over ... different videos"; at test time a
clip's prediction must not depend on the other clips in its batch, ours):

- ``'batch_in_training'`` (default): the kernels of a (frame, class) position attend across
  the B clips of the batch in training; in eval mode each clip attends to itself only (the
  layer then reduces to its value and output projections), as a batch of one.
- ``'memory'``: each clip attends to itself and ``memory_size`` learned video tokens, the
  same in training and inference.
- ``'none'``: the step is skipped.
"""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmseg.models.utils import resize
from mmseg.utils import add_prefix
from torch import Tensor, nn

from echoseg.registry import MODELS
from ..layers.attention import CrossAttentionLayer, FFNLayer, SelfAttentionLayer
from ..utils import ClipContext
from ..utils.upsample import upsample_logits
from .base_temporal_head import BaseTemporalDecodeHead


class KernelRefinementStage(nn.Module):
    """One refinement iteration of KSS (eqs 1-4), on kernels (B, T, c, d)."""

    def __init__(self, dim: int, num_heads: int, ffn_dim: int, dropout: float,
                 cross_video: str, memory_size: int):
        super().__init__()
        self.feat_to_kernel = CrossAttentionLayer(dim, num_heads, dropout)  # MHA(F_g, k, k)
        self.kernel_to_feat = CrossAttentionLayer(dim, num_heads, dropout)  # MHA(k, F_g, F_g)
        self.temporal = SelfAttentionLayer(dim, num_heads, dropout)
        self.cross_video = cross_video
        if cross_video == 'batch_in_training':
            self.video = SelfAttentionLayer(dim, num_heads, dropout)
        elif cross_video == 'memory':
            self.video = CrossAttentionLayer(dim, num_heads, dropout)
            self.memory = nn.Parameter(torch.randn(memory_size, dim) * 0.02)
        self.ffn = FFNLayer(dim, ffn_dim, dropout)

    def _across_videos(self, k: Tensor) -> Tensor:
        """(B, T, c, d) kernels -> the same after the cross-video step."""
        b, t, c, d = k.shape
        if self.cross_video == 'none':
            return k
        if self.cross_video == 'memory':
            q = k.reshape(b * t * c, 1, d)
            mem = torch.cat([q, self.memory.unsqueeze(0).expand(q.shape[0], -1, -1)], 1)
            return self.video(q, mem).view(b, t, c, d)
        if self.training:  # sequences over the B clips (eq. 4, k_b)
            seq = k.permute(1, 2, 0, 3).reshape(t * c, b, d)
            return self.video(seq).view(t, c, b, d).permute(2, 0, 1, 3)
        # eval: every clip on its own, as a batch of one
        return self.video(k.reshape(b * t * c, 1, d)).view(b, t, c, d)

    def forward(self, grouped: Tensor, kernels: Tensor, temporal_pos: Tensor) -> Tensor:
        """grouped, kernels: (B, T, c, d); temporal_pos: (T, d) -> new kernels (B, T, c, d)."""
        b, t, c, d = kernels.shape
        g = grouped.reshape(b * t, c, d)
        k = kernels.reshape(b * t, c, d)
        k = self.feat_to_kernel(g, k) + self.kernel_to_feat(k, g)          # eq. 2, k_e
        k = k.view(b, t, c, d).permute(0, 2, 1, 3).reshape(b * c, t, d)   # phi_1, k_t
        k = self.temporal(k, temporal_pos.unsqueeze(0))
        k = k.view(b, c, t, d).permute(0, 2, 1, 3)                         # (B, T, c, d)
        k = self._across_videos(k)                                         # phi_2, k_b
        return self.ffn(k.reshape(b * t, c, d)).view(b, t, c, d)           # phi_3, k_p


@MODELS.register_module()
class KSSHead(BaseTemporalDecodeHead):
    """Kernel-based semi-supervised segmentation head (PKEcho-Net, eqs 1-4, 6).

    Args:
        num_stages: S, kernel refinement iterations (the paper: 3, Table 5).
        num_heads: attention heads (must divide ``channels``; the public code: d / 32).
        ffn_ratio: FFN hidden size / d (the paper: "the same as the input", 1).
        num_frames: length of the learned temporal position embedding; clips of another
            length get it linearly interpolated over ED..ES.
        cross_video: ``'batch_in_training'``, ``'memory'`` or ``'none'`` (module docstring).
        memory_size: learned video tokens of ``cross_video='memory'``.
        attn_dropout: dropout inside the attention / FFN layers.
        Other arguments as mmseg's ``BaseDecodeHead`` (``in_channels``, ``in_index``,
        ``channels`` = d, ``num_classes``, ``out_channels``, ``loss_decode`` ...).
    """

    CROSS_VIDEO = ('batch_in_training', 'memory', 'none')

    def __init__(self, num_stages: int = 3, num_heads: int = 1, ffn_ratio: float = 1.0,
                 num_frames: int = 10, cross_video: str = 'batch_in_training',
                 memory_size: int = 8, attn_dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        if cross_video not in self.CROSS_VIDEO:
            raise ValueError(f'KSSHead: cross_video must be one of {self.CROSS_VIDEO}, '
                             f'got {cross_video!r}')
        if num_stages < 0:
            raise ValueError(f'KSSHead: num_stages must be >= 0, got {num_stages}')
        if self.channels % num_heads != 0:
            raise ValueError(f'KSSHead: channels ({self.channels}) must be divisible by '
                             f'num_heads ({num_heads})')
        if num_frames < 1 or memory_size < 1 or ffn_ratio <= 0:
            raise ValueError('KSSHead: num_frames, memory_size and ffn_ratio must be positive')
        if self.input_transform == 'multiple_select':
            raise ValueError("KSSHead: input_transform must be None or 'resize_concat'")
        d = self.channels
        self.reduce = ConvModule(self.in_channels, d, 3, padding=1, conv_cfg=self.conv_cfg,
                                 norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        self.temporal_pos = nn.Parameter(torch.randn(num_frames, d) * 0.02)
        self.stages = nn.ModuleList(
            KernelRefinementStage(d, num_heads, max(1, int(round(ffn_ratio * d))),
                                  attn_dropout, cross_video, memory_size)
            for _ in range(num_stages))
        self.stage_bias = nn.Parameter(torch.zeros(num_stages, self.out_channels))

    def init_weights(self) -> None:
        super().init_weights()
        # "Kaiming" (paper): fan_in with the linear gain for every projection, so the
        # attention logits q.k / sqrt(d) start of order 1 (unsaturated softmax)
        for m in self.stages.modules():
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight, mode='fan_in', nonlinearity='linear')
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    # ------------------------------------------------------------------ the network
    def _temporal_pos(self, t: int) -> Tensor:
        pos = self.temporal_pos
        if t == pos.shape[0]:
            return pos
        return F.interpolate(pos.t().unsqueeze(0), size=t, mode='linear',
                             align_corners=True)[0].t()

    def forward_stages(self, inputs: Tuple[Tensor, ...], clip: Optional[ClipContext]
                       ) -> Tuple[List[Tensor], Tensor]:
        """Coarse logits P^0..P^S, each (N, c, h, w), and the reduced features F_r."""
        x = self._transform_inputs(inputs)
        n = x.shape[0]
        b, t = (clip.batch_size, clip.num_frames) if clip is not None else (n, 1)
        feats = self.reduce(x)                                  # F_r (N, d, h, w)
        masks = [self.conv_seg(feats)]                          # P^0
        c, d = self.conv_seg.weight.shape[:2]
        kernels = self.conv_seg.weight.view(1, 1, c, d).expand(b, t, c, d)   # k^0
        area = float(feats.shape[-2] * feats.shape[-1])
        pos = self._temporal_pos(t)
        for i, stage in enumerate(self.stages):
            grouped = torch.einsum('nchw,ndhw->ncd', masks[-1].sigmoid(), feats) / area
            kernels = stage(grouped.view(b, t, c, d), kernels, pos)
            logits = torch.einsum('ncd,ndhw->nchw', kernels.reshape(n, c, d), feats)
            masks.append(logits + self.stage_bias[i].view(1, c, 1, 1))
        return masks, feats

    def forward(self, inputs: Tuple[Tensor, ...], clip: Optional[ClipContext] = None
                ) -> Tensor:
        """Final-stage logits of every frame, through the clip's upsampler if any."""
        masks, _ = self.forward_stages(inputs, clip)
        return upsample_logits(clip, masks[-1])

    # ------------------------------------------------------------------ training
    def _stage_losses(self, stage_logits: List[Tensor], labelled_samples: List
                      ) -> Dict[str, Tensor]:
        """Eq. 6: every loss on every stage, distance maps computed once."""
        label = self._stack_batch_gt(labelled_samples).squeeze(1)
        losses_decode = self.loss_decode if isinstance(self.loss_decode, nn.ModuleList) \
            else [self.loss_decode]
        prepared = {}
        for j, loss in enumerate(losses_decode):
            if hasattr(loss, 'distance_maps'):
                prepared[j] = dict(dist=loss.distance_maps(label, self.out_channels,
                                                           self.ignore_index))
        losses = {}
        for i, logits in enumerate(stage_logits):
            logits = resize(logits, size=label.shape[-2:], mode='bilinear',
                            align_corners=self.align_corners)
            stage = {}
            for j, loss in enumerate(losses_decode):
                value = loss(logits, label, ignore_index=self.ignore_index,
                             **prepared.get(j, {}))
                stage[loss.loss_name] = stage.get(loss.loss_name, 0) + value
            losses.update(add_prefix(stage, f's{i}'))
        return losses

    def loss_clip(self, inputs: Tuple[Tensor, ...], clip: ClipContext,
                  labelled_samples: List) -> Tuple[Dict[str, Tensor], Tensor]:
        """Deep supervision of P^0..P^S on the labelled frames; logits of every frame."""
        masks, feats = self.forward_stages(inputs, clip)
        clip.extras['decoder_features'] = feats  # F_r, for a pseudo-labeler (CPR)
        lab = clip.labelled_flat
        final = upsample_logits(clip, masks[-1])
        if not bool(lab.any()):
            return {'loss_none': final.sum() * 0.0}, final
        stages = [upsample_logits(clip, m[lab], lab) for m in masks[:-1]] + [final[lab]]
        return self._stage_losses(stages, labelled_samples), final
