"""The convolutional encoder of MSSNet's public SSG model (``SSG_Encoder``'s convs).

Per frame: a double conv (3x3 conv, BN, ReLU, twice) at full resolution, then three
stages of a 2x2 max-pool and a double conv; the public widths 32, 64, 128, 256 give a
stride-8, 256-channel map (32 x 32 at 256 x 256). Convolutions keep PyTorch's default
initialisation and have no bias, as in the public file.
"""
from typing import Optional, Sequence, Tuple

import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from torch import Tensor, nn

from echoseg.registry import MODELS


def double_conv(cin: int, cout: int, norm_cfg: dict) -> nn.Sequential:
    """(3x3 conv, norm, ReLU) x 2, the public ``DoubleConv`` layout."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), build_norm_layer(norm_cfg, cout)[1],
        nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), build_norm_layer(norm_cfg, cout)[1],
        nn.ReLU(inplace=True))


@MODELS.register_module()
class SSGEncoder(BaseModule):
    """SSG's U-Net-style encoder as an mmseg backbone (frames folded into the batch).

    Args:
        in_channels: input channels (the public file: 1).
        channels: width of each stage; stage i > 0 starts with a 2x2 max-pool.
        out_indices: stages returned (level i has stride 2**i); default the last.
        norm_cfg: the norm layers (BN, as the public file).
    """

    def __init__(self, in_channels: int = 1, channels: Sequence[int] = (32, 64, 128, 256),
                 out_indices: Sequence[int] = (3, ), norm_cfg: Optional[dict] = None,
                 init_cfg=None):
        super().__init__(init_cfg)
        if not channels or any(i < 0 or i >= len(channels) for i in out_indices):
            raise ValueError(f'SSGEncoder: out_indices {list(out_indices)} must name stages '
                             f'of channels {list(channels)}')
        norm_cfg = norm_cfg or dict(type='BN')
        widths = [in_channels] + list(channels)
        self.stages = nn.ModuleList(double_conv(a, b, norm_cfg)
                                    for a, b in zip(widths[:-1], widths[1:]))
        self.out_indices = tuple(out_indices)

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        outs = []
        for i, stage in enumerate(self.stages):
            if i > 0:
                x = F.max_pool2d(x, 2)
            x = stage(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)
