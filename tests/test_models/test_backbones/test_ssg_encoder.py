"""SSGEncoder: the public SSG's conv encoder."""
import pytest
import torch
from mmengine.registry import init_default_scope

from echoseg.registry import MODELS


@pytest.fixture(autouse=True)
def scope():
    init_default_scope('echoseg')


def test_levels_and_strides():
    enc = MODELS.build(dict(type='SSGEncoder', in_channels=1, out_indices=(0, 1, 2, 3)))
    enc.eval()
    with torch.no_grad():
        outs = enc(torch.randn(2, 1, 64, 48))
    assert [tuple(o.shape) for o in outs] == [(2, 32, 64, 48), (2, 64, 32, 24),
                                              (2, 128, 16, 12), (2, 256, 8, 6)]
    assert all(m.bias is None for m in enc.modules()
               if isinstance(m, torch.nn.Conv2d))  # convs without bias, as the public file


def test_a_stage_is_maxpool_then_double_conv():
    torch.manual_seed(0)
    enc = MODELS.build(dict(type='SSGEncoder', in_channels=1, channels=(4, 6),
                            out_indices=(1, ))).eval()
    x = torch.randn(1, 1, 8, 8)
    with torch.no_grad():
        first = enc.stages[0](x)
        expected = enc.stages[1](torch.nn.functional.max_pool2d(first, 2))
        torch.testing.assert_close(enc(x)[0], expected)


def test_bad_out_indices():
    with pytest.raises(ValueError, match='out_indices'):
        MODELS.build(dict(type='SSGEncoder', channels=(4, 8), out_indices=(2, )))
