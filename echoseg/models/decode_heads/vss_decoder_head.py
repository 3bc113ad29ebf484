"""The Mamba decoder of echoseg's MSSNet network: VM-UNet's decoder as a decode head.

From the deepest level to the shallowest (VM-UNet, Ruan and Xiang 2024), per frame:

    x = proj(deepest input)                      (1x1 + LN when its channels are not
                                                  dims[-1], e.g. SSG's 32-wide output:
                                                  the public SSG decoder's 1x1 to 256)
    x = depths[-1] VSS blocks(x)
    for level i = n-2 .. 0:
        x = expand(x)                            (Linear C_{i+1} -> 4 C_i, pixel shuffle
                                                  to 2x the size, LN: "patch expanding")
        x = x + skip_i                           (the encoder's level i; cropped to its size)
        x = depths[i] VSS blocks(x)
    x = final expand x4 (Linear C0 -> 4 C0, pixel shuffle 4: C0 / 4 channels, LN)
    logits = conv_seg(x)                         (1x1, full input resolution)

Inputs: ``in_channels`` / ``in_index`` list every level (``input_transform=
'multiple_select'``); ``channels`` must be dims[0] // 4 (the input of ``conv_seg``).
"""
from typing import Sequence

import torch.nn.functional as F
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from torch import Tensor, nn

from echoseg.registry import MODELS
from ..backbones.vss_encoder import drop_path_schedule, vss_stage
from ..layers.mamba import init_vss_weights


class PatchExpand(nn.Module):
    """(n, h, w, C_in) -> (n, s*h, s*w, C_out): Linear to s*s*C_out, pixel shuffle, LN."""

    def __init__(self, in_dim: int, out_dim: int, scale: int = 2):
        super().__init__()
        self.scale, self.out_dim = scale, out_dim
        self.expand = nn.Linear(in_dim, scale * scale * out_dim, bias=False)
        self.norm = nn.LayerNorm(out_dim)

    def forward(self, x: Tensor) -> Tensor:
        n, h, w, _ = x.shape
        s = self.scale
        x = self.expand(x).reshape(n, h, w, s, s, self.out_dim)
        x = x.permute(0, 1, 3, 2, 4, 5).reshape(n, h * s, w * s, self.out_dim)
        return self.norm(x)


def _adapter(cin: int, cout: int) -> nn.Module:
    """Identity, or Linear + LN between token widths."""
    if cin == cout:
        return nn.Identity()
    return nn.Sequential(nn.Linear(cin, cout), nn.LayerNorm(cout))


@MODELS.register_module()
class VSSDecoderHead(BaseDecodeHead):
    """VM-UNet-style Mamba decoder with skip connections; see the module docstring.

    Args:
        dims: decoder width at each level, shallow to deep (the encoder's).
        depths: VSS blocks at each level, shallow to deep (VM-UNet's decoder 2, 2, 2, 1
            from deep to shallow is ``(1, 2, 2, 2)``).
        d_state, ssm_ratio, d_conv, gate, directions, mlp_ratio, drop_path_rate, backend:
            as :class:`~echoseg.models.backbones.VSSEncoder`.
        Other arguments as mmseg's ``BaseDecodeHead`` (``in_channels`` / ``in_index`` of
        every level, ``input_transform='multiple_select'``).
    """

    def __init__(self, dims: Sequence[int] = (32, 64, 128, 256),
                 depths: Sequence[int] = (1, 2, 2, 2), d_state: int = 1,
                 ssm_ratio: float = 1.0, d_conv: int = 3, gate: bool = False,
                 directions: int = 4, mlp_ratio: float = 4.0, drop_path_rate: float = 0.1,
                 backend: str = 'auto', init_cfg=None, **kwargs):
        kwargs.setdefault('input_transform', 'multiple_select')
        super().__init__(init_cfg=init_cfg, **kwargs)
        if self.input_transform != 'multiple_select':
            raise ValueError("VSSDecoderHead: input_transform must be 'multiple_select'")
        levels = len(self.in_channels)
        if len(dims) != levels or len(depths) != levels:
            raise ValueError(f'VSSDecoderHead: dims {list(dims)} and depths {list(depths)} '
                             f'must have one entry per input level ({levels})')
        if self.channels != dims[0] // 4:
            raise ValueError(f'VSSDecoderHead: channels ({self.channels}) must be dims[0] // 4 '
                             f'({dims[0] // 4}), the width after the final x4 expansion')
        block = dict(mlp_ratio=mlp_ratio, d_state=d_state, ssm_ratio=ssm_ratio, d_conv=d_conv,
                     gate=gate, directions=directions, backend=backend)
        self.adapters = nn.ModuleList(_adapter(c, d) for c, d in zip(self.in_channels, dims))
        # drop path rises from the deepest stage to the shallowest, as it is run
        rates = drop_path_schedule(drop_path_rate, list(depths)[::-1])[::-1]
        self.stages = nn.ModuleList(vss_stage(d, n, r, **block)
                                    for d, n, r in zip(dims, depths, rates))
        self.expands = nn.ModuleList(PatchExpand(b, a) for a, b in zip(dims[:-1], dims[1:]))
        self.final_expand = PatchExpand(dims[0], self.channels, scale=4)
        init_vss_weights(self)

    def forward(self, inputs) -> Tensor:
        feats = self._transform_inputs(inputs)
        tokens = [a(f.permute(0, 2, 3, 1)) for a, f in zip(self.adapters, feats)]
        x = self.stages[-1](tokens[-1])
        for i in range(len(tokens) - 2, -1, -1):
            skip = tokens[i]
            x = self.expands[i](x)[:, :skip.shape[1], :skip.shape[2]]
            x = self.stages[i](x + skip)
        x = self.final_expand(x).permute(0, 3, 1, 2).contiguous()
        return self.cls_seg(x)
