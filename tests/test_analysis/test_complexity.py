"""echoseg.analysis.complexity (tools/analysis/get_flops.py): parameters and multiply-adds
(the project's one unit, GMACs) of a config's model."""
import os.path as osp

import pytest
import torch
from mmengine.registry import init_default_scope
from torch import nn

from echoseg.analysis import complexity as tool
from echoseg.utils.config import load_config
from echoseg.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'echoforge', 'r18_synthetic.py')


def test_conv2d_macs_equal_the_analytic_count():
    conv = nn.Conv2d(3, 8, 3, padding=1)
    # one multiply-add per weight and output pixel (bias not counted)
    assert tool.module_macs(conv, torch.randn(1, 3, 16, 16)) == 8 * 3 * 3 * 3 * 16 * 16
    strided = nn.Conv2d(4, 6, 3, stride=2, padding=1, bias=False)
    assert tool.module_macs(strided, torch.randn(2, 4, 10, 10)) == 2 * 6 * 4 * 9 * 5 * 5
    # a linear layer: in x out multiply-adds per token
    assert tool.module_macs(nn.Linear(7, 5), torch.randn(3, 7)) == 3 * 7 * 5


def test_attention_is_counted():
    e, length = 16, 5
    mha = nn.MultiheadAttention(e, 4, batch_first=True).eval()
    q = torch.randn(1, length, e)
    macs = tool.count_macs(lambda: mha(q, q, q, need_weights=False))['total']
    # in/out projections + QK^T + AV
    assert macs == 3 * length * e * e + length * e * e + 2 * length * length * e


def _conv_macs(module, x):
    """Multiply-adds of every Conv2d in ``module(x)``: output elements x (in / groups) x kernel."""
    total = []

    def hook(conv, args, out):
        k = conv.kernel_size[0] * conv.kernel_size[1]
        total.append(out.numel() * conv.in_channels // conv.groups * k)
    hooks = [m.register_forward_hook(hook) for m in module.modules()
             if isinstance(m, nn.Conv2d)]
    module.eval()  # (mmseg's ResNet.train returns None: no chaining)
    with torch.no_grad():
        module(x)
    for h in hooks:
        h.remove()
    return sum(total)


def test_params_and_macs_of_a_config(tmp_path, capsys):
    out = tmp_path / 'macs.json'
    result = tool.main([CONFIG, '--shape', '32', '32', '--frames', '3', '--json', str(out)])
    init_default_scope('echoseg')
    model = MODELS.build(load_config(CONFIG).model)
    assert result['params']['total'] == sum(p.numel() for p in model.parameters())
    assert result['params']['backbone'] == sum(p.numel() for p in model.backbone.parameters())
    assert result['params_inference'] == result['params']['total'] - sum(
        p.numel() for p in model.pseudo_labeler.parameters())
    clip = result['macs_clip']
    assert clip['total'] > clip['backbone'] > 0
    assert clip['total'] == clip['backbone'] + clip['neck'] + clip['decode_head']
    assert result['macs_frame'] == pytest.approx(clip['total'] / 3)
    assert 'flops_clip' not in result  # one unit only
    # the backbone (convolutions only) against an independent count from forward hooks
    assert clip['backbone'] == _conv_macs(model.backbone, torch.randn(3, 3, 32, 32))
    text = capsys.readouterr().out
    assert 'params' in text and 'GMACs per clip' in text and 'GMACs per frame' in text
    assert 'FLOPs' not in text
    assert out.exists()


def test_report_puts_the_paper_beside_r50_camus():
    result = dict(shape=[256, 256], frames=10, in_channels=3, method='torch',
                  params=dict(total=30e6, backbone=23.5e6), params_inference=29.6e6,
                  macs_clip=dict(total=72.5e9), macs_frame=7.25e9)
    text = tool.format_report(result, 'configs/echoforge/r50_camus.py')
    assert '67 M params, 125 G' in text and 'GMACs per clip      72.50 G' in text
    assert 'paper' not in tool.format_report(result, 'configs/echoforge/r18_synthetic.py')


def test_r50_camus_matches_the_papers_67m_and_125g():
    """EchoForge-ND, the model without a pixel decoder (Table 2: 67 M parameters, 125 G
    FLOPs at 256 x 256; a 10-frame clip, 2 FLOPs per multiply-add) within 10 %; the default
    with its decoder: tests/test_analysis/test_echoforge_complexity.py."""
    result = tool.main([osp.join(ROOT, 'configs', 'echoforge', 'variants', 'nd_r50_camus.py'),
                           '--shape', '256', '256', '--frames', '10'])
    assert abs(result['params']['total'] / 67e6 - 1) < 0.10
    assert 50e9 < result['macs_clip']['backbone'] < 58e9


def test_each_method_is_reported_beside_its_own_paper():
    result = dict(shape=[320, 320], frames=10, in_channels=3, method='torch',
                  params=dict(total=25.7e6), params_inference=25.7e6,
                  macs_clip=dict(total=110e9), macs_frame=11e9)
    pk = tool.format_report(result, 'configs/pkechonet/r50_camus.py')
    assert 'PKEcho-Net' in pk and '25.7 M' in pk and 'EchoForge' not in pk
    assert 'EchoForge' in tool.format_report(result, 'configs/echoforge/r50_camus_full.py')
    assert 'paper' not in tool.format_report(result, 'configs/echoforge/variants/ms_r50_camus.py')
    ncm = tool.format_report(result, 'configs/ncmnet/r50_camus.py')
    assert "NCM-Net" in ncm and "authors' fork" in ncm and 'GMACs' in ncm
