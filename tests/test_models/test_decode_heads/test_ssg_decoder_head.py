"""SSGDecoderHead and the public SSG model config."""
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import init_default_scope

from echoseg.models.decode_heads.ssg_decoder_head import LayerNorm2d
from echoseg.registry import MODELS
from echoseg.testing import make_clip_batch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


@pytest.fixture(autouse=True)
def scope():
    init_default_scope('echoseg')


def test_layer_norm_2d_is_a_layer_norm_over_channels():
    norm = LayerNorm2d(5)
    with torch.no_grad():
        norm.weight.uniform_(0.5, 1.5)
        norm.bias.normal_()
    x = torch.randn(2, 5, 3, 4) * 3 + 1
    ref = F.layer_norm(x.permute(0, 2, 3, 1), (5, ), norm.weight, norm.bias, eps=1e-6)
    torch.testing.assert_close(norm(x), ref.permute(0, 3, 1, 2), rtol=1e-5, atol=1e-5)


def test_head_upsamples_eight_times():
    head = MODELS.build(dict(type='SSGDecoderHead', in_channels=8, channels=16,
                             neck_channels=32, up_channels=(12, 16), num_classes=2,
                             out_channels=1, threshold=0.5, dropout_ratio=0.0))
    out = head((torch.randn(3, 8, 5, 6), ))
    assert out.shape == (3, 1, 40, 48)
    assert isinstance(head.conv_seg, torch.nn.ConvTranspose2d)
    with pytest.raises(ValueError, match='up_channels'):
        MODELS.build(dict(type='SSGDecoderHead', in_channels=8, channels=8,
                          up_channels=(12, 16), num_classes=2, out_channels=1))


def test_public_ssg_model_config_predicts_and_trains_on_any_clip():
    cfg = Config.fromfile(osp.join(ROOT, 'configs', '_base_', 'models',
                                   'mssnet_ssg_public.py'))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.eval()
    with torch.no_grad():
        logits = model._forward(torch.rand(1, 4, 1, 48, 64))
    assert logits.shape == (4, 1, 48, 64)
    model.train()
    data = model.data_preprocessor(dict(zip(('inputs', 'data_samples'),
                                            make_clip_batch(2, 5, (32, 32)))), True)
    inputs = data['inputs'][:, :, :1]
    losses = model.loss(inputs, data['data_samples'])
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    assert torch.isfinite(total)
    assert model.neck.sap.qkv.weight.grad.abs().sum() > 0
