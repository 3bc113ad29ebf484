"""The decoder of MSSNet's public SSG model (``SSG_Decoder`` of ``SSG.py``) as a head.

Per frame: a 1x1 conv to ``neck_channels`` (256), channel LayerNorm, a 3x3 conv,
channel LayerNorm (the public "neck", convs without bias), then 2x2 stride-2 transposed
convs with GELU between them (256 -> 64 -> 16) and a last 2x2 stride-2 transposed conv
to the logits (``conv_seg``): three doublings, stride 8 -> full resolution. PyTorch's
default initialisation, as the public file (``init_cfg=None``).
"""
from typing import Sequence

import torch
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from torch import Tensor, nn

from echoseg.registry import MODELS


class LayerNorm2d(nn.Module):
    """LayerNorm over the channels of an (N, C, H, W) map (biased variance, eps 1e-6)."""

    def __init__(self, channels: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        mean = x.mean(1, keepdim=True)
        var = (x - mean).pow(2).mean(1, keepdim=True)
        x = (x - mean) / (var + self.eps).sqrt()
        return x * self.weight[:, None, None] + self.bias[:, None, None]


@MODELS.register_module()
class SSGDecoderHead(BaseDecodeHead):
    """SSG's transposed-conv decoder (per frame).

    Args:
        neck_channels: width of the 1x1 / 3x3 convs (the public 256).
        up_channels: outputs of the GELU-separated transposed convs (the public 64, 16);
            ``channels`` must equal the last (the input of ``conv_seg``).
        Other arguments as mmseg's ``BaseDecodeHead`` (``in_channels`` = the neck's E,
        ``num_classes``, ``out_channels``; ``dropout_ratio`` applies before ``conv_seg``).
    """

    def __init__(self, neck_channels: int = 256, up_channels: Sequence[int] = (64, 16),
                 init_cfg=None, **kwargs):
        super().__init__(init_cfg=init_cfg, **kwargs)
        if not up_channels or self.channels != up_channels[-1]:
            raise ValueError(f'SSGDecoderHead: channels ({self.channels}) must equal the last '
                             f'of up_channels {list(up_channels)}')
        if self.input_transform == 'multiple_select':
            raise ValueError("SSGDecoderHead: input_transform must be None or 'resize_concat'")
        self.proj = nn.Sequential(
            nn.Conv2d(self.in_channels, neck_channels, 1, bias=False), LayerNorm2d(neck_channels),
            nn.Conv2d(neck_channels, neck_channels, 3, padding=1, bias=False),
            LayerNorm2d(neck_channels))
        layers, cin = [], neck_channels
        for c in up_channels:
            layers += [nn.ConvTranspose2d(cin, c, 2, 2), nn.GELU()]
            cin = c
        self.up = nn.Sequential(*layers)
        self.conv_seg = nn.ConvTranspose2d(self.channels, self.out_channels, 2, 2)

    def forward(self, inputs) -> Tensor:
        x = self._transform_inputs(inputs)
        return self.cls_seg(self.up(self.proj(x)))
