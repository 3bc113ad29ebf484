"""The Mamba encoder of echoseg's MSSNet network: a VM-UNet-style stack of visual
state-space (VSS) blocks, per frame.

MSSNet's title names a "Mamba-based" segmentation network; its code is not public
(docs/methods/mssnet.md). This encoder follows the closest public Mamba segmentation
networks: VM-UNet (Ruan and Xiang 2024; VMamba blocks in a U-shape, 4 stages at strides
4, 8, 16, 32, depths 2, 2, 2, 2) with VMamba v2's layers (Liu et al. 2024: convolutional
patch embedding and downsampling, SS2D with d_state 1 and no gate, an MLP in every
block):

    patch embedding  3x3 conv s2 (C0 / 2), LN, GELU, 3x3 conv s2 (C0), LN   (stride 4)
    stage i          depths[i] x VSSBlock(dims[i])                        (stride 4 * 2**i)
    between stages   3x3 conv s2 (dims[i] -> dims[i+1]), LN
    output i         LN(stage i), (N, dims[i], H / 4 / 2**i, W / 4 / 2**i)

Odd sizes are padded by the stride-2 convolutions (112 -> 28, 14, 7, 4). Linear layers
start truncated normal (std 0.02) as VMamba's; the SS2D parameters as Mamba's.
"""
from typing import Sequence, Tuple

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

from echoseg.registry import MODELS
from ..layers.mamba import VSSBlock, init_vss_weights


class ChannelLastNorm(nn.Module):
    """LayerNorm over the channels of an (N, C, H, W) map."""

    def __init__(self, channels: int):
        super().__init__()
        self.norm = nn.LayerNorm(channels)

    def forward(self, x: Tensor) -> Tensor:
        return self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


def vss_stage(dim: int, depth: int, drop_paths: Sequence[float], **block) -> nn.Sequential:
    """``depth`` VSS blocks of width ``dim`` on (n, h, w, dim) tokens."""
    return nn.Sequential(*[VSSBlock(dim, drop_path=drop_paths[i], **block)
                           for i in range(depth)])


def drop_path_schedule(rate: float, depths: Sequence[int]) -> list:
    """Stochastic-depth rates rising linearly over all blocks (as VMamba / Swin)."""
    total = sum(depths)
    rates = torch.linspace(0, rate, total).tolist() if total else []
    out, start = [], 0
    for d in depths:
        out.append(rates[start:start + d])
        start += d
    return out


@MODELS.register_module()
class VSSEncoder(BaseModule):
    """VM-UNet-style Mamba encoder as an mmseg backbone; see the module docstring.

    Args:
        in_channels: input channels (1: gray echo frames).
        dims: width of each stage (one level each).
        depths: VSS blocks per stage.
        out_indices: stages returned.
        d_state, ssm_ratio, d_conv, gate, directions: of every :class:`SS2D`.
        mlp_ratio: of every :class:`VSSBlock` (0: no MLP, as VM-UNet).
        drop_path_rate: stochastic depth of the last block (linear from 0).
        backend: of the selective scan (``'auto'``: ``mamba_ssm``'s kernel on a GPU when
            installed).
    """

    def __init__(self, in_channels: int = 1, dims: Sequence[int] = (32, 64, 128, 256),
                 depths: Sequence[int] = (2, 2, 2, 2), out_indices: Sequence[int] = (0, 1, 2, 3),
                 d_state: int = 1, ssm_ratio: float = 1.0, d_conv: int = 3,
                 gate: bool = False, directions: int = 4, mlp_ratio: float = 4.0,
                 drop_path_rate: float = 0.1, backend: str = 'auto', init_cfg=None):
        super().__init__(init_cfg)
        if len(dims) != len(depths) or not dims:
            raise ValueError(f'VSSEncoder: dims {list(dims)} and depths {list(depths)} must '
                             'name the same stages')
        if any(i < 0 or i >= len(dims) for i in out_indices):
            raise ValueError(f'VSSEncoder: out_indices {list(out_indices)} must name stages '
                             f'of dims {list(dims)}')
        self.dims, self.out_indices = tuple(dims), tuple(out_indices)
        block = dict(mlp_ratio=mlp_ratio, d_state=d_state, ssm_ratio=ssm_ratio, d_conv=d_conv,
                     gate=gate, directions=directions, backend=backend)
        half = max(dims[0] // 2, 1)
        self.patch_embed = nn.Sequential(
            nn.Conv2d(in_channels, half, 3, 2, 1), ChannelLastNorm(half), nn.GELU(),
            nn.Conv2d(half, dims[0], 3, 2, 1), ChannelLastNorm(dims[0]))
        rates = drop_path_schedule(drop_path_rate, depths)
        self.stages = nn.ModuleList(vss_stage(d, n, r, **block)
                                    for d, n, r in zip(dims, depths, rates))
        self.downsamples = nn.ModuleList(
            nn.Sequential(nn.Conv2d(a, b, 3, 2, 1), ChannelLastNorm(b))
            for a, b in zip(dims[:-1], dims[1:]))
        self.out_norms = nn.ModuleDict({str(i): nn.LayerNorm(dims[i]) for i in out_indices})
        init_vss_weights(self)

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """(N, C, H, W) -> one (N, dims[i], h_i, w_i) map per output index."""
        x = self.patch_embed(x)
        outs = []
        for i, stage in enumerate(self.stages):
            if i > 0:
                x = self.downsamples[i - 1](x)
            x = stage(x.permute(0, 2, 3, 1))  # (N, h, w, C)
            if i in self.out_indices:
                outs.append(self.out_norms[str(i)](x).permute(0, 3, 1, 2).contiguous())
            x = x.permute(0, 3, 1, 2)
        return tuple(outs)
