"""PKEcho-Net: echoseg's ``authors`` preset against the public ``models/PKEchoNet.py``.

The reference: ``PKEchoNet(in_channels=1, backbone='resnet50', num_stage=3,
num_frame=T, num_classes=1)`` (the file's defaults otherwise: 3 x 3 neighbourhoods,
1x1 kernels, d = 32, one head, FFN 4d, dropout 0.1), its ResNet-50 from the torchvision
stand-in. echoseg: ``configs/pkechonet/authors_r50_camus.py`` (mmseg's ResNet-50 with one
input channel, ``MRPNeck``, ``KSSHead`` with the public switches).

Outputs compared (eval mode, every stage upsampled through MRP to the input size, as the
file returns them): ``stage0`` (P^0) .. ``stage3`` (P^3), and ``segmentor`` (echoseg's
``encode_decode``, the inference path, against the file's last stage).

The name map (:data:`RULES`; reference key -> echoseg key) and one rewrite before it
(:func:`fold_reduce_bias`): the file's 3x3 reduction conv has a bias before its batch
norm, echoseg's (mmcv's ``ConvModule`` before a norm) has none; the bias is folded into
the norm's running mean (mean - bias), exact in eval mode, and in training mode the
batch statistics remove any constant shift.
"""
import os.path as osp
from typing import Dict, List

import torch
from torch import Tensor

from .reference_check import (MapRule, ReferenceCase, ReferenceFile, load_reference_module,
                              quiet_init_weights, resolve_config)

REFERENCE_FILES = [ReferenceFile('JingyinLin/PKEcho-Net', '441f257', 'models/PKEchoNet.py',
                                 'e4e412882639b7e7eee956cfbed520a308ba3481')]
DEFAULT_CONFIG = osp.join('configs', 'pkechonet', 'authors_r50_camus.py')

_S = r'kss\.updator\.(\d+)\.'
_D = r'decode_head.stages.\1.'
RULES: List[MapRule] = [
    MapRule(r'encoder_layer0\.0\.weight', 'backbone.conv1.weight',
            note='the 1-channel 7x7 stem'),
    MapRule(r'encoder_layer0\.1\.(.+)', r'backbone.bn1.\1', note="torchvision's bn1"),
    MapRule(r'encoder_layer([1-4])\.(.+)', r'backbone.layer\1.\2',
            note="ResNet stages: the same block and layer names (mmseg's ResNet keeps "
                 "torchvision's conv1-3, bn1-3, downsample.0/1)"),
] + [
    rule for i in range(1, 5) for rule in (
        MapRule(rf'estimator{i}\.estimator\.0\.(.+)', rf'neck.estimators.{i - 1}.depthwise.\1',
                note=f'MRP affinity estimator of level {i - 1}: depthwise 3x3'),
        MapRule(rf'estimator{i}\.estimator\.1\.(.+)', rf'neck.estimators.{i - 1}.norm.\1',
                note='its batch norm'),
        MapRule(rf'estimator{i}\.estimator\.3\.(.+)', rf'neck.estimators.{i - 1}.logits.\1',
                note='its 3x3 conv to 9*s*s logits')
    )
] + [
    MapRule(r'kss\.predictor_conv1\.0\.weight', 'decode_head.reduce.conv.weight',
            note='3x3 reduction 2048 -> 32 (its bias: fold_reduce_bias)'),
    MapRule(r'kss\.predictor_conv1\.1\.(.+)', r'decode_head.reduce.bn.\1'),
    MapRule(r'kss\.predictor_conv2\.(weight|bias)', r'decode_head.conv_seg.\1',
            note='P^0 and the first kernel'),
    MapRule(r'kss\.pos_embed', 'decode_head.temporal_pos', op='reshape',
            note='(1, T, d) -> (T, d)'),
    MapRule(r'kss\.bias\.(\d+)', r'decode_head.stage_bias[\1]', op='row',
            note="stage i's dynamic-conv bias -> row i"),
    MapRule(_S + r'0\.feature_msa\.(.+)', _D + r'kernel_to_feat.attn.\2',
            note='HybridAttention: MHA(kernels, features, features)'),
    MapRule(_S + r'0\.feature_norm\.(.+)', _D + r'kernel_to_feat.norm.\2'),
    MapRule(_S + r'0\.kernel_msa\.(.+)', _D + r'feat_to_kernel.attn.\2',
            note='HybridAttention: MHA(features, kernels, kernels)'),
    MapRule(_S + r'0\.kernel_norm\.(.+)', _D + r'feat_to_kernel.norm.\2'),
    MapRule(_S + r'0\.fc\.([01])\.(.+)', _D + r'hybrid_fc.\2.\3',
            note='Linear + LN (+ ReLU) after the hybrid sum'),
    MapRule(_S + r'1\.msa\.(.+)', _D + r'temporal.attn.\2', note='temporal attention'),
    MapRule(_S + r'1\.norm\.(.+)', _D + r'temporal.norm.\2'),
    MapRule(_S + r'2\.msa\.(.+)', _D + r'video.attn.\2', note='cross-video attention'),
    MapRule(_S + r'2\.norm\.(.+)', _D + r'video.norm.\2'),
    MapRule(_S + r'3\.ffn\.([03])\.(.+)', _D + r'ffn.mlp.\2.\3', note='FFN d -> 4d -> d'),
    MapRule(_S + r'3\.norm\.(.+)', _D + r'ffn.norm.\2'),
]


def fold_reduce_bias(state: Dict[str, Tensor]) -> Dict[str, Tensor]:
    """``kss.predictor_conv1.0.bias`` into ``kss.predictor_conv1.1.running_mean``."""
    state = dict(state)
    bias = state.pop('kss.predictor_conv1.0.bias')
    key = 'kss.predictor_conv1.1.running_mean'
    state[key] = state[key] - bias
    return state


def _build_ours(config: str, num_frames: int):
    from mmengine.registry import init_default_scope

    from echoseg.utils.config import load_config
    from echoseg.registry import MODELS
    cfg = load_config(resolve_config(config))
    init_default_scope(cfg.get('default_scope', 'echoseg'))
    cfg.model.decode_head.num_frames = num_frames
    cfg.model.pretrained = None  # no ImageNet download: the reference's weights are copied
    cfg.model.backbone.pop('init_cfg', None)
    model = MODELS.build(cfg.model)
    quiet_init_weights(model)
    return model


def build_case(paths: List[str], config: str = DEFAULT_CONFIG, batch: int = 2,
               frames: int = 10, size: int = 320, seed: int = 0) -> ReferenceCase:
    """The reference and the preset with random weights, and a (batch, frames, 1, size,
    size) input in [0, 1) (the file's demo input)."""
    from echoseg.models.utils.upsample import upsample_logits

    module = load_reference_module(paths[0])
    torch.manual_seed(seed)
    theirs = module.PKEchoNet(in_channels=1, backbone='resnet50', num_stage=3,
                              num_frame=frames, num_classes=1)
    ours = _build_ours(config, frames)
    gen = torch.Generator().manual_seed(seed + 1)
    x = torch.rand(batch, frames, 1, size, size, generator=gen)

    def run_theirs(inputs: Tensor) -> Dict[str, Tensor]:
        stages = theirs(inputs)
        out = {f'stage{i}': s for i, s in enumerate(stages)}
        out['segmentor'] = stages[-1]
        return out

    def run_ours(inputs: Tensor) -> Dict[str, Tensor]:
        b, t, _, h, w = inputs.shape
        clip = ours.make_clip_context(inputs, None, with_masks=False)
        feats = ours.extract_feat(inputs, clip)
        masks, _ = ours.decode_head.forward_stages(feats, clip)
        out = {f'stage{i}': upsample_logits(clip, m).view(b, t, -1, h, w)
               for i, m in enumerate(masks)}
        out['segmentor'] = ours.encode_decode(inputs).view(b, t, -1, h, w)
        return out

    def calibrate():
        theirs(x)

    return ReferenceCase(
        name='PKEcho-Net (authors preset)', theirs=theirs, ours=ours, rules=RULES,
        inputs=x, run_theirs=run_theirs, run_ours=run_ours, prepare=fold_reduce_bias,
        calibrate=calibrate, bench_theirs=lambda inputs: theirs(inputs),
        bench_ours=lambda inputs: ours.encode_decode(inputs),
        notes=[f'config {config}', f'input {tuple(x.shape)} in [0, 1), float32, CPU',
               'kss.predictor_conv1.0.bias folded into decode_head.reduce.bn.running_mean'])
