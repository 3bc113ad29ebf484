"""The torchvision / timm stand-ins used to import the authors' files."""
import sys
import types

import pytest
import torch
from mmengine.registry import init_default_scope

from echoseg.analysis import reference_stubs as stubs
from echoseg.registry import MODELS


@pytest.mark.parametrize('name, depth', [('resnet18', 18), ('resnet50', 50)])
def test_stand_in_resnet_has_torchvisions_names_and_mmsegs_computation(name, depth):
    """mmseg's ResNet keeps torchvision's layout: the stand-in's state dict (less the
    classifier) loads into it under the same names, and both compute the same features."""
    init_default_scope('echoseg')
    torch.manual_seed(0)
    net = getattr(stubs, name)(pretrained=True)  # no download: random weights
    state = {k: v for k, v in net.state_dict().items() if not k.startswith('fc.')}
    mm = MODELS.build(dict(type='ResNet', depth=depth, out_indices=(3, ), style='pytorch'))
    assert set(state) == set(mm.state_dict())
    mm.load_state_dict(state, strict=True)
    for m in net.modules():  # non-trivial statistics, identical in both
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.8, 1.2)
    mm.load_state_dict({k: v for k, v in net.state_dict().items() if k in state})
    net.eval(), mm.eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        feat = net.layer4(net.layer3(net.layer2(net.layer1(
            net.maxpool(net.relu(net.bn1(net.conv1(x))))))))
        torch.testing.assert_close(mm(x)[0], feat)
        assert net(x).shape == (1, 1000)
    assert net.layer1[-1].conv1.in_channels == (256 if depth == 50 else 64)


def test_drop_path_drops_whole_samples_in_training_only():
    torch.manual_seed(0)
    layer = stubs.DropPath(0.5)
    x = torch.ones(64, 3, 2)
    y = layer(x)
    per_sample = y.flatten(1)
    assert set(per_sample.unique().tolist()) <= {0.0, 2.0}
    assert (per_sample.min(1).values == per_sample.max(1).values).all()  # whole samples
    assert 10 < int((per_sample[:, 0] == 0).sum()) < 54
    layer.eval()
    assert torch.equal(layer(x), x)


def test_trunc_normal_stays_within_its_bounds():
    t = stubs.trunc_normal_(torch.empty(10000), std=0.02, a=-0.03, b=0.03)
    assert t.abs().max() <= 0.03 and 0.012 < float(t.std()) < 0.02


def test_stand_ins_are_installed_only_inside_the_block():
    sentinel = types.ModuleType('torchvision')
    saved = sys.modules.get('torchvision')
    sys.modules['torchvision'] = sentinel
    had_timm = 'timm' in sys.modules
    try:
        with stubs.stand_ins():
            from timm.models.layers import DropPath
            from torchvision import models
            assert models.resnet50 is stubs.resnet50 and DropPath is stubs.DropPath
        assert sys.modules['torchvision'] is sentinel
        assert ('timm' in sys.modules) == had_timm
    finally:
        if saved is None:
            sys.modules.pop('torchvision', None)
        else:
            sys.modules['torchvision'] = saved
