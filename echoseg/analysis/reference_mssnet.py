"""MSSNet's SSG: echoseg's modules against the public ``SSG.py`` (class ``SSG``).

The reference runs one 10-frame clip of (10, 1, 256, 256), the only setting its code
accepts (T = 10, the 32 x 32 position embedding and the loop over 8 windows are
hard-coded). echoseg: ``configs/_base_/models/mssnet_ssg_public.py`` (``SSGEncoder`` ->
``SAPTAPNeck`` -> ``SSGDecoderHead`` in an ``EchoVideoSegmentor``) on the same clip as
(1, 10, 1, 256, 256).

Outputs compared (eval mode): ``encoder`` (``SSG_Encoder``'s output, (T, 32, 32, 32)
channels last, against the neck's output), ``decoder_neck`` (the decoder's 256-channel
features before the transposed convs) and ``logits`` (the model's output against
echoseg's ``encode_decode``).

The name map (:data:`RULES`) leaves out five of the file's parameters, which its forward
never reads: ``SAP.proj`` (an output projection defined and not applied), ``TAP.norm1``,
``TAP.proj`` and ``norm_t``; echoseg's modules do not have them (2,240 parameters).
"""
from typing import Dict, List

import torch
from torch import Tensor

from .reference_check import (MapRule, ReferenceCase, ReferenceFile, load_reference_module,
                              quiet_init_weights, resolve_config)

REFERENCE_FILES = [ReferenceFile('SSS666-klk/MSSNet', 'aa8b95b', 'SSG.py',
                                 'e75c2621385863e3ede0583ed133a73ea71fd574')]
DEFAULT_CONFIG = 'configs/_base_/models/mssnet_ssg_public.py'

_DOWN = {'inc.double_conv': 0, 'down1.maxpool_conv.1.double_conv': 1,
         'down2.maxpool_conv.1.double_conv': 2, 'down3.maxpool_conv.1.double_conv': 3}
RULES: List[MapRule] = [
    MapRule(r'enc\.' + src.replace('.', r'\.') + r'\.([0134])\.(.+)',
            rf'backbone.stages.{i}.\1.\2',
            note=f'encoder stage {i}: conv, BN, -, conv, BN (same Sequential indices)')
    for src, i in _DOWN.items()
] + [
    MapRule(r'enc\.spatial_embed\.(.+)', r'neck.embed.\1', note='Linear 256 -> 32'),
    MapRule(r'enc\.spatial_pos_embed', 'neck.pos_embed', note='(1, 32*32, 32)'),
    MapRule(r'enc\.SAP\.(norm1|qkv|norm2)\.(.+)', r'neck.sap.\1.\2'),
    MapRule(r'enc\.SAP\.mlp\.fc1\.(.+)', r'neck.sap.mlp.0.\1'),
    MapRule(r'enc\.SAP\.mlp\.fc2\.(.+)', r'neck.sap.mlp.2.\1'),
    MapRule(r'enc\.SAP\.proj\.(.+)', None, note='defined, never applied by SAP_Block.forward'),
    MapRule(r'enc\.norm_s\.(.+)', r'neck.norm.\1', note='LayerNorm after SAP'),
    MapRule(r'enc\.TAP\.(q|kv)\.(.+)', r'neck.tap.\1.\2'),
    MapRule(r'enc\.TAP\.norm2\.(.+)', r'neck.tap.norm.\1'),
    MapRule(r'enc\.TAP\.mlp\.fc1\.(.+)', r'neck.tap.mlp.0.\1'),
    MapRule(r'enc\.TAP\.mlp\.fc2\.(.+)', r'neck.tap.mlp.2.\1'),
    MapRule(r'enc\.TAP\.(norm1|proj)\.(.+)', None,
            note='defined, never applied by TAP_Block.forward'),
    MapRule(r'enc\.norm_t\.(.+)', None, note='defined, never applied by SSG_Encoder'),
    MapRule(r'dec\.neck\.([0-3])\.(.+)', r'decode_head.proj.\1.\2',
            note='1x1 conv, LayerNorm2d, 3x3 conv, LayerNorm2d'),
    MapRule(r'dec\.up\.([02])\.(.+)', r'decode_head.up.\1.\2', note='ConvT 256->64, 64->16'),
    MapRule(r'dec\.up\.4\.(.+)', r'decode_head.conv_seg.\1', note='ConvT 16->1, the logits'),
]


def build_ours(config: str = DEFAULT_CONFIG):
    """echoseg's SSG model from its model config, initialised."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import echoseg.models  # noqa: F401  (registers the modules)
    from echoseg.registry import MODELS
    init_default_scope('echoseg')
    model = MODELS.build(Config.fromfile(resolve_config(config)).model)
    quiet_init_weights(model)
    return model


def build_case(paths: List[str], config: str = DEFAULT_CONFIG, seed: int = 0,
               **_unused) -> ReferenceCase:
    """The public SSG and echoseg's, random weights, one clip (10, 1, 256, 256) in [0, 1)."""
    module = load_reference_module(paths[0])
    torch.manual_seed(seed)
    theirs = module.SSG()
    ours = build_ours(config)
    gen = torch.Generator().manual_seed(seed + 1)
    x = torch.rand(10, 1, 256, 256, generator=gen)

    def run_theirs(inputs: Tensor) -> Dict[str, Tensor]:
        enc = theirs.enc(inputs)
        logits, neck = theirs.dec(enc)
        return dict(encoder=enc, decoder_neck=neck, logits=logits)

    def run_ours(inputs: Tensor) -> Dict[str, Tensor]:
        clip_in = inputs.unsqueeze(0)
        clip = ours.make_clip_context(clip_in, None, with_masks=False)
        enc = ours.extract_feat(clip_in, clip)[-1]
        return dict(encoder=enc.permute(0, 2, 3, 1), decoder_neck=ours.decode_head.proj(enc),
                    logits=ours.encode_decode(clip_in))

    return ReferenceCase(
        name='MSSNet SSG', theirs=theirs, ours=ours, rules=RULES, inputs=x,
        run_theirs=run_theirs, run_ours=run_ours, calibrate=lambda: theirs(x),
        bench_theirs=lambda inputs: theirs(inputs),
        bench_ours=lambda inputs: ours.encode_decode(inputs.unsqueeze(0)),
        notes=[f'config {config}', f'input {tuple(x.shape)} in [0, 1) '
               '(echoseg: (1, 10, 1, 256, 256)), float32, CPU'])
