"""A light temporal decode head for real-time inference: a causal temporal convolution.

Not from a paper (echoseg's real-time model, docs/benchmarks.md). Two feature levels, in
the manner of LR-ASPP (MobileNetV3's segmentation head):

- the coarse level (e.g. stride 32) is projected to ``channels`` (1x1 conv, BN, ReLU) and
  mixed over time by a depthwise *causal* temporal convolution: frame t gets
  ``x_t + sum_{j<k} w_j * x_{t-j}`` per channel (``kernel_size`` k frames, the present one
  included), followed by BN and ReLU;
- the fine level (e.g. stride 8) is projected to ``channels`` (1x1 conv, BN, ReLU), the
  temporal coarse map upsampled (bilinear) is added, a 3x3 conv mixes them, and the
  classifier gives the logits at the fine level's stride.

Causal, so a frame never waits for later frames, and it streams exactly: with a per-video
memory (``clip.extras['video_memory']``, :class:`echoseg.models.utils.VideoMemory`) the
head keeps the projected coarse features of the last ``k - 1`` frames and uses them as the
past of the next window's first frames; windows fed one after the other give the same
logits as one pass over the whole video. Before the first frame of a video (or of a clip
without memory) the past is the first frame repeated.
"""
from typing import Sequence

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from torch import Tensor, nn

from echoseg.registry import MODELS
from ..utils import ClipContext, video_memory_of
from .base_temporal_head import BaseTemporalDecodeHead

MEMORY_KEY = 'causal_temporal_head'


@MODELS.register_module()
class CausalTemporalHead(BaseTemporalDecodeHead):
    """Light two-level head with a causal depthwise temporal convolution.

    Args:
        kernel_size: frames k the temporal convolution spans (the present one included);
            1 makes the head per-frame.
        in_channels / in_index: two levels, fine first then coarse, with
            ``input_transform='multiple_select'`` (the default here).
        Other arguments as mmseg's ``BaseDecodeHead`` (``channels``, ``num_classes``,
        ``out_channels``, ``loss_decode``, ``norm_cfg`` ...).
    """

    #: keeps a per-video memory across inference windows (``EchoVideoSegmentor``)
    uses_video_memory = True

    def __init__(self, kernel_size: int = 3, **kwargs) -> None:
        kwargs.setdefault('input_transform', 'multiple_select')
        super().__init__(**kwargs)
        if self.input_transform != 'multiple_select' or len(self.in_channels) != 2:
            raise ValueError('CausalTemporalHead: needs two input levels (fine, coarse) '
                             "with input_transform='multiple_select'")
        if kernel_size < 1:
            raise ValueError(f'CausalTemporalHead: kernel_size must be >= 1, got '
                             f'{kernel_size}')
        c = self.channels
        fine_ch, coarse_ch = self.in_channels
        self.kernel_size = int(kernel_size)
        self.fine_proj = ConvModule(fine_ch, c, 1, conv_cfg=self.conv_cfg,
                                    norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        self.coarse_proj = ConvModule(coarse_ch, c, 1, conv_cfg=self.conv_cfg,
                                      norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        # depthwise over time: one weight per channel and past frame, zero at start so a
        # fresh head is the per-frame head
        self.temporal_weight = nn.Parameter(torch.zeros(c, self.kernel_size))
        self.temporal_norm = nn.BatchNorm2d(c)
        self.fuse = ConvModule(c, c, 3, padding=1, conv_cfg=self.conv_cfg,
                               norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)

    def temporal_mix(self, coarse: Tensor, past: Tensor) -> Tensor:
        """(B, T, C, h, w) features and (B, k-1, C, h, w) past -> (B, T, C, h, w)."""
        k = self.kernel_size
        seq = torch.cat([past, coarse], dim=1) if k > 1 else coarse
        t = coarse.shape[1]
        mixed = coarse.clone()
        for j in range(k):  # x_{t-j} for every t of the window at once
            w = self.temporal_weight[:, j].view(1, 1, -1, 1, 1)
            mixed = mixed + w * seq[:, k - 1 - j:k - 1 - j + t]
        b = mixed.shape[0]
        out = F.relu(self.temporal_norm(mixed.flatten(0, 1)))
        return out.reshape(b, t, *out.shape[1:])

    def _past(self, coarse: Tensor, clip: ClipContext) -> Tensor:
        k = self.kernel_size
        memory = video_memory_of(clip)
        stored = memory.get(MEMORY_KEY) if memory is not None else None
        if stored is None or memory.window_start == 0:
            stored = coarse[:, :1].expand(-1, k - 1, -1, -1, -1)
        if memory is not None and k > 1:
            seq = torch.cat([stored, coarse], dim=1)
            memory.put(MEMORY_KEY, seq[:, -(k - 1):].detach().clone())
        return stored

    def forward(self, inputs: Sequence[Tensor], clip: ClipContext) -> Tensor:
        fine, coarse = self._transform_inputs(inputs)
        coarse = clip.unfold(self.coarse_proj(coarse))
        mixed = clip.fold(self.temporal_mix(coarse, self._past(coarse, clip)))
        fine = self.fine_proj(fine)
        mixed = F.interpolate(mixed, size=fine.shape[-2:], mode='bilinear',
                              align_corners=self.align_corners)
        return self.cls_seg(self.fuse(fine + mixed))
