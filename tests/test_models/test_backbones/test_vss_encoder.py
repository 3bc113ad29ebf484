"""VSSEncoder (MSSNet's Mamba encoder): levels at strides 4, 8, 16, 32 with the configured
widths (odd sizes padded), frames independent, gradients everywhere, clear errors."""
import pytest
import torch

from echoseg.models.backbones import VSSEncoder


def _encoder(**kw):
    torch.manual_seed(0)
    cfg = dict(dims=(8, 16, 24, 32), depths=(1, 1, 2, 1), backend='torch')
    cfg.update(kw)
    return VSSEncoder(**cfg)


@pytest.mark.parametrize('size,grids', [(64, (16, 8, 4, 2)), (56, (14, 7, 4, 2)),
                                        (48, (12, 6, 3, 2))])
def test_levels_have_the_strides_and_widths(size, grids):
    enc = _encoder().eval()
    outs = enc(torch.randn(3, 1, size, size))
    assert [tuple(o.shape) for o in outs] == [(3, c, g, g) for c, g in zip((8, 16, 24, 32),
                                                                         grids)]
    assert len(enc.stages[2]) == 2  # depths


def test_frames_are_independent_and_every_parameter_trains():
    enc = _encoder(drop_path_rate=0.0)
    x = torch.randn(2, 1, 64, 64)  # the last stage 2 x 2 (at 1 x 1, A would be unused)
    outs = enc(x)
    moved = x.clone()
    moved[1] += 1.0
    for a, b in zip(outs, enc(moved)):
        torch.testing.assert_close(a[0], b[0])  # frame 0 does not see frame 1
        assert not torch.allclose(a[1], b[1])
    sum(o.square().mean() for o in outs).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in enc.parameters())


def test_out_indices_and_bad_configs():
    outs = _encoder(out_indices=(1, 3)).eval()(torch.randn(1, 1, 32, 32))
    assert [o.shape[1] for o in outs] == [16, 32]
    with pytest.raises(ValueError, match='out_indices'):
        VSSEncoder(dims=(8, 16), depths=(1, 1), out_indices=(2, ))
    with pytest.raises(ValueError, match='depths'):
        VSSEncoder(dims=(8, 16), depths=(1, ))
