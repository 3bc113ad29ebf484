"""VSSDecoderHead (MSSNet's Mamba decoder): full-resolution logits from the four levels
(odd encoder grids cropped back), every skip connection used, clear errors."""
import pytest
import torch
from mmengine.registry import init_default_scope

from echoseg.models.backbones import VSSEncoder
from echoseg.registry import MODELS

DIMS = (8, 16, 24, 32)


@pytest.fixture(autouse=True)
def scope():
    init_default_scope('echoseg')


def _head(**kw):
    cfg = dict(type='VSSDecoderHead', in_channels=[8, 16, 24, 12], in_index=[0, 1, 2, 3],
               dims=DIMS, depths=(1, 1, 1, 1), channels=2, num_classes=2, out_channels=1,
               threshold=0.5, backend='torch', drop_path_rate=0.0,
               loss_decode=dict(type='BCEDiceLoss'))
    cfg.update(kw)
    torch.manual_seed(0)
    return MODELS.build(cfg)


def _levels(size, last=12):
    enc = VSSEncoder(dims=DIMS, depths=(1, 1, 1, 1), backend='torch').eval()
    feats = list(enc(torch.randn(2, 1, size, size)))
    feats[-1] = torch.randn(2, last, *feats[-1].shape[-2:])  # e.g. SSG's narrower output
    return [f.detach() for f in feats]


@pytest.mark.parametrize('size', [64, 56])
def test_logits_at_full_resolution(size):
    head = _head()
    out = head(_levels(size))
    assert out.shape == (2, 1, size, size)
    assert head.adapters[-1].__class__.__name__ == 'Sequential'  # 12 -> 32
    assert head.adapters[0].__class__.__name__ == 'Identity'


def test_every_level_reaches_the_output():
    head = _head().eval()
    feats = _levels(32)
    base = head(feats)
    for i in range(4):
        changed = list(feats)
        changed[i] = changed[i] + 1.0
        assert not torch.allclose(head(changed), base), f'level {i} is not used'


def test_losses_train_every_parameter():
    head = _head()
    feats = [f.requires_grad_() for f in _levels(64)]  # a 2 x 2 bottleneck
    logits = head(feats)
    logits.square().mean().backward()
    assert all(p.grad is not None for p in head.parameters())
    assert all(f.grad.abs().sum() > 0 for f in feats)


def test_bad_configs_are_clear_errors():
    with pytest.raises(ValueError, match='channels'):
        _head(channels=4)
    with pytest.raises(ValueError, match='one entry per input level'):
        _head(depths=(1, 1, 1))
