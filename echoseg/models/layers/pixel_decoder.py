"""OpenMMLab pixel decoders for echoseg's Mask2Former-style heads.

NCM-Net's released head (the authors' fork, ``STEchoHeadv3``) takes its multi-scale context
and its stride-4 mask features from mmdet's ``MSDeformAttnPixelDecoder`` (Mask2Former's
pixel decoder: a 6-layer deformable-attention encoder over the three coarsest levels, an
FPN step to the finest). echoseg uses mmdet's own implementation (``mmdet==3.3.0``), built
through echoseg's registry:

- the config names it with mmdet's scope, ``type='mmdet.MSDeformAttnPixelDecoder'``, and
  echoseg's ``MODELS.build`` (default scope ``echoseg``) finds it in mmdet's registry, which
  ``import mmdet.registry`` attaches to MMEngine's root (done here);
- :func:`build_pixel_decoder` fills in the widths from the head: ``in_channels`` (the head's
  levels), ``feat_channels`` = ``out_channels`` = the head's ``channels``, the encoder's
  ``embed_dims`` (attention and FFN) and the sine embedding's ``num_feats`` = half of it,
  so a narrowed head (``channels=64``) narrows its decoder with it; the rest (layers, heads,
  levels, points, FFN width, GroupNorm groups) comes from the config;
- mmdet's modules expect ``ConfigDict`` arguments (attribute access): the config is
  converted before building.

The deformable attention is mmcv's ``MultiScaleDeformableAttention``: its pure-PyTorch
path (``grid_sample``) on the CPU, mmcv's compiled kernel on a CUDA tensor (an mmcv built
with CUDA). ``forward(feats)`` takes the levels fine to coarse and returns
``(mask_features, [memories coarse to fine])``.
"""
import copy
from typing import Dict, Sequence

from torch import nn

from echoseg.registry import MODELS


def msdeform_pixel_decoder(num_layers: int = 6, num_heads: int = 8, num_levels: int = 3,
                           num_points: int = 4, ffn_channels: int = 1024,
                           num_groups: int = 32) -> Dict:
    """The config of mmdet's ``MSDeformAttnPixelDecoder`` as NCM-Net's fork sets it (widths
    are filled in by :func:`build_pixel_decoder`)."""
    return dict(
        type='mmdet.MSDeformAttnPixelDecoder', strides=[4, 8, 16, 32], num_outs=num_levels,
        norm_cfg=dict(type='GN', num_groups=num_groups), act_cfg=dict(type='ReLU'),
        encoder=dict(
            num_layers=num_layers,
            layer_cfg=dict(
                self_attn_cfg=dict(num_heads=num_heads, num_levels=num_levels,
                                   num_points=num_points, im2col_step=64, dropout=0.0,
                                   batch_first=True, norm_cfg=None, init_cfg=None),
                ffn_cfg=dict(feedforward_channels=ffn_channels, num_fcs=2, ffn_drop=0.0,
                             act_cfg=dict(type='ReLU', inplace=True))),
            init_cfg=None),
        positional_encoding=dict(normalize=True), init_cfg=None)


def build_pixel_decoder(cfg: Dict, in_channels: Sequence[int], channels: int) -> nn.Module:
    """Build an OpenMMLab pixel decoder from ``cfg`` with the head's widths (module
    docstring). Raises a clear error when mmdet is not installed."""
    from mmengine.config import ConfigDict
    try:
        import mmdet.registry  # noqa: F401  attaches mmdet's registries to MMEngine's root
    except ImportError as exc:
        raise ImportError(f'{cfg.get("type")}: this pixel decoder comes from mmdet '
                          f'(mmdet==3.3.0; tools/setup_env.sh installs it): {exc}') from exc
    cfg = copy.deepcopy(dict(cfg))
    cfg.update(in_channels=list(in_channels), feat_channels=channels, out_channels=channels)
    layer = cfg.get('encoder', {}).get('layer_cfg', {})
    for key in ('self_attn_cfg', 'ffn_cfg'):
        if key in layer:
            layer[key]['embed_dims'] = channels
    if 'positional_encoding' in cfg:
        cfg['positional_encoding']['num_feats'] = channels // 2
    return MODELS.build(ConfigDict(cfg))
