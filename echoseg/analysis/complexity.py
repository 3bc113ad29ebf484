"""Parameters and multiply-adds (GMACs) of an echoseg model on one clip
(``tools/analysis/get_flops.py``).

    python tools/analysis/get_flops.py CONFIG [--shape H W] [--frames T]
                                       [--cfg-options k=v ...] [--json OUT.json]

Builds ``cfg.model`` (no checkpoint is loaded, no data is read), feeds a (1, T, C, H, W)
clip to the segmentor's ``_forward`` (the inference path: backbone, neck and decode head of
every frame; a pseudo-labeler and a clip mixer only run in training and are not counted)
and counts with PyTorch's ``torch.utils.flop_counter.FlopCounterMode``, which sees every
matrix product at the dispatcher level (convolutions, linear layers, attention, einsum).

**The project's one convention: multiply-adds (MACs), reported in G (GMACs).** It is
what the papers' tables and the common counters (fvcore, thop, mmcv, mmengine) report,
under the name "FLOPs". PyTorch's counter counts 2 operations per multiply-add; every count
it gives is halved here (it only counts matrix products and convolutions, each exactly 2 per
multiply-add). Element-wise operations, normalisation, softmax and the bilinear sampling
of deformable attention are not counted (as in fvcore). ``--method mmengine`` uses
``mmengine.analysis.get_model_complexity_info`` (jit tracing, fvcore rules) instead; its
number is multiply-adds too.
"""
import argparse
import json
import os.path as osp
from collections import OrderedDict
from typing import Callable, Dict, Optional

import torch
from torch import nn

#: (method folder, config name prefix) -> the line the report prints beside the count
PAPER_LINES = {
    ('echoforge', 'r50_camus'): 'paper (EchoForge, ResNet-50, 256 x 256): 67 M params, 125 G '
                                '"FLOPs" (unit and per-clip/frame not stated; read as GMACs '
                                'per 10-frame clip)',
    ('pkechonet', 'r50_camus'): 'paper (PKEcho-Net, ResNet-50, 320 x 320): 25.7 M params, '
                                '109 G "Flops" (GMACs per 10-frame clip)',
    ('pkechonet', 'r18_camus'): 'paper (PKEcho-Net, ResNet-18, 320 x 320): 11.7 M params, '
                                '42 G "Flops" (GMACs per 10-frame clip)',
    ('ncmnet', 'r50_camus'): 'paper (NCM-Net): figures not available here. The authors\' fork '
                             '(ResNet-50, 256 x 256, computed from its config): 77.9 M params '
                             '(2.4 M of them unused), 239.1 GMACs per 10-frame clip '
                             '(docs/methods/ncmnet.md)',
}


def paper_line(config: str):
    """The paper's own figures for a method config, or None."""
    method = osp.basename(osp.dirname(osp.abspath(config)))
    name = osp.basename(config)
    for (folder, prefix), line in PAPER_LINES.items():
        if method == folder and name.startswith(prefix):
            return line
    return None


def count_parameters(model: nn.Module) -> Dict[str, int]:
    """Parameters of the model and of each top-level child."""
    out = OrderedDict(total=sum(p.numel() for p in model.parameters()))
    for name, child in model.named_children():
        n = sum(p.numel() for p in child.parameters())
        if n:
            out[name] = n
    return out


def _extra_formulas() -> Dict:
    """Ops PyTorch's counter has no formula for: the CPU flash-attention kernel that
    ``scaled_dot_product_attention`` (and so ``nn.MultiheadAttention``) runs on the CPU
    counts like the GPU kernels (QK^T and AV)."""
    from torch.utils.flop_counter import sdpa_flop_count

    def sdpa_cpu(query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs):
        return sdpa_flop_count(query_shape, key_shape, value_shape)

    extra = {}
    op = getattr(torch.ops.aten, '_scaled_dot_product_flash_attention_for_cpu', None)
    if op is not None:
        extra[op] = sdpa_cpu
    return extra


def count_macs(fn: Callable[[], object], modules: Optional[Dict[str, nn.Module]] = None
               ) -> Dict[str, int]:
    """Multiply-adds of ``fn()``, total and per given submodule.

    ``modules`` maps a report name to a submodule; PyTorch's counter names modules by class,
    so only submodules of distinct classes are broken down. The forward runs with autograd
    enabled (no backward is taken), so that ``nn.MultiheadAttention`` takes its counted
    composite path instead of the fused inference kernel.
    """
    from torch.utils.flop_counter import FlopCounterMode
    counter = FlopCounterMode(display=False, custom_mapping=_extra_formulas())
    with torch.enable_grad(), counter:
        fn()
    per_module = counter.get_flop_counts()
    # PyTorch counts 2 operations per multiply-add (every op it counts is a product)
    out = OrderedDict(total=int(counter.get_total_flops()) // 2)
    classes = [type(m).__name__ for m in (modules or {}).values()]
    for name, module in (modules or {}).items():
        key = type(module).__name__
        if classes.count(key) == 1 and key in per_module:
            out[name] = int(sum(per_module[key].values())) // 2
    return out


def module_macs(module: nn.Module, *inputs) -> int:
    """Multiply-adds of ``module(*inputs)``."""
    return count_macs(lambda: module(*inputs))['total']


def model_complexity(cfg, shape=(256, 256), frames: int = 10,
                     method: str = 'torch') -> Dict:
    """Build ``cfg.model`` and measure it on a (1, frames, C, H, W) clip."""
    from mmengine.registry import init_default_scope

    from echoseg.registry import MODELS
    init_default_scope(cfg.get('default_scope', 'echoseg'))
    model = MODELS.build(cfg.model)
    model.eval()
    channels = int(getattr(model.data_preprocessor, 'in_channels', 3))
    h, w = int(shape[0]), int(shape[1])
    inputs = torch.randn(1, frames, channels, h, w)
    params = count_parameters(model)
    train_only = sum(params.get(k, 0) for k in ('pseudo_labeler', 'clip_mixer'))
    children = {n: getattr(model, n) for n in ('backbone', 'neck', 'decode_head',
                                               'auxiliary_head')
                if isinstance(getattr(model, n, None), nn.Module)}
    if method == 'torch':
        macs = count_macs(lambda: model._forward(inputs), children)
        missing = [n for n in children if n not in macs]
        if len(missing) == 1:  # e.g. a temporal head called through predict_clip
            macs[missing[0]] = macs['total'] - sum(macs[n] for n in children if n in macs)
    elif method == 'mmengine':
        from mmengine.analysis import get_model_complexity_info
        with torch.no_grad():
            info = get_model_complexity_info(model, inputs=(inputs, ), show_table=False,
                                             show_arch=False)
        macs = OrderedDict(total=int(info['flops']))  # mmengine's "flops" are multiply-adds
    else:
        raise ValueError(f"method must be 'torch' or 'mmengine', got {method!r}")
    return dict(
        shape=[h, w], frames=int(frames), in_channels=channels, method=method,
        params=dict(params), params_inference=params['total'] - train_only,
        macs_clip=dict(macs), macs_frame=macs['total'] / frames)


def format_report(result: Dict, config: str) -> str:
    m, g = 1e6, 1e9
    p = result['params']
    h, w = result['shape']
    t = result['frames']
    lines = [f'config: {config}',
             f'input: 1 clip x {t} frames x {result["in_channels"]} x {h} x {w}  '
             f'(method: {result["method"]}; GMACs = 10^9 multiply-adds)',
             '-' * 68,
             f'params         {p["total"] / m:10.2f} M   (inference modules: '
             f'{result["params_inference"] / m:.2f} M)']
    for name, n in p.items():
        if name != 'total':
            lines.append(f'  {name:<13}{n / m:10.2f} M')
    mc = result['macs_clip']
    lines += [f'GMACs per clip {mc["total"] / g:10.2f} G',
              f'GMACs per frame{result["macs_frame"] / g:10.2f} G']
    for name, v in mc.items():
        if name != 'total':
            lines.append(f'  {name:<13}{v / g:10.2f} G per clip')
    line = paper_line(config)
    if line:
        lines.append(line)
    lines.append('-' * 68)
    return '\n'.join(lines)


def parse_args(argv=None):
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(
        description='Parameters and multiply-adds (GMACs) of an echoseg model')
    parser.add_argument('config')
    parser.add_argument('--shape', type=int, nargs=2, default=None, metavar=('H', 'W'),
                        help='input size (default: the config image_size, else 256 256)')
    parser.add_argument('--frames', type=int, default=None,
                        help='frames per clip (default: the config num_frames, else 10)')
    parser.add_argument('--method', choices=['torch', 'mmengine'], default='torch')
    parser.add_argument('--json', help='also write the result as JSON here')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    return parser.parse_args(argv)


def main(argv=None) -> Optional[Dict]:
    """The command line of ``tools/analysis/get_flops.py``; returns the result."""
    args = parse_args(argv)
    from echoseg.utils.config import load_config
    cfg = load_config(args.config, args.cfg_options)
    shape = args.shape or list(cfg.get('image_size', (256, 256)))
    frames = args.frames or int(cfg.get('num_frames', 10))
    result = model_complexity(cfg, shape, frames, args.method)
    result['config'] = args.config
    print(format_report(result, args.config))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=2)
    return result
