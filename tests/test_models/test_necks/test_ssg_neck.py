"""SSGNeck: shapes, identity at initialisation, scan orders, weight propagation (earlier
frames steer later ones, never the reverse), clips independent of each other."""
import pytest
import torch

from echoseg.models.necks.ssg_neck import SSGNeck, SpatiotemporalGuidance
from echoseg.models.utils import ClipContext
from echoseg.registry import MODELS

B, T, C, H, W = 2, 4, 16, 5, 6


def _clip(b=B, t=T):
    return ClipContext(b, t, torch.zeros(b, t, dtype=torch.bool))


def _neck(**kw):
    cfg = dict(type='SSGNeck', in_channels=[8, C], in_index=-1, embed_dims=8, d_state=4)
    cfg.update(kw)
    torch.manual_seed(0)
    neck = MODELS.build(cfg)
    for block in neck.ssg.values():  # leave the zero-initialised identity start
        torch.nn.init.normal_(block.proj_out.weight, std=0.5)
    return neck


def test_identity_at_initialisation_and_untouched_levels():
    torch.manual_seed(0)
    neck = MODELS.build(dict(type='SSGNeck', in_channels=[8, C], embed_dims=8, d_state=4))
    assert neck.temporal
    feats = [torch.randn(B * T, 8, 3, 3), torch.randn(B * T, C, H, W)]
    out = neck(feats, clip=_clip())
    assert out[0] is feats[0]
    assert torch.equal(out[1], feats[1])  # proj_out starts at zero


@pytest.mark.parametrize('orders', [('spatial', ), ('temporal', ), ('joint', ),
                                    ('spatial', 'temporal')])
@pytest.mark.parametrize('bidirectional', [True, False])
def test_orders_shapes_and_gradients(orders, bidirectional):
    neck = _neck(scan_orders=orders, bidirectional=bidirectional)
    x = torch.randn(B * T, C, H, W, requires_grad=True)
    out = neck([torch.randn(B * T, 8, 3, 3), x], clip=_clip())[1]
    assert out.shape == x.shape
    out.square().mean().backward()
    assert x.grad.abs().sum() > 0
    for name, p in neck.named_parameters():
        assert p.grad is not None, name


@pytest.mark.parametrize('orders', [('spatial', ), ('joint', )])
def test_weight_propagation_runs_forward_in_time(orders):
    """Forward scans only: a change in frame 2 reaches frames 2-3 (its own and, through the
    propagated steps, the later frame) and never frames 0-1."""
    neck = _neck(scan_orders=orders, bidirectional=False)
    x = torch.randn(B * T, C, H, W)
    x2 = x.clone()
    x2[2] += 1.0  # clip 0, frame 2
    with torch.no_grad():
        a, b = neck(x, clip=_clip())[0], neck(x2, clip=_clip())[0]
    diff = (a - b).flatten(1).abs().amax(1)
    assert torch.all(diff[:2] == 0) and torch.all(diff[2:4] > 0)
    assert torch.all(diff[T:] == 0)  # the other clip is untouched


def test_spatial_frames_interact_only_through_propagation():
    x = torch.randn(B * T, C, H, W)
    x2 = x.clone()
    x2[1] += 1.0
    outs = []
    for alpha in (0.5, 0.0):
        neck = _neck(scan_orders=('spatial', ), bidirectional=True, propagation=alpha)
        with torch.no_grad():
            outs.append((neck(x, clip=_clip())[0] - neck(x2, clip=_clip())[0])
                        .flatten(1).abs().amax(1))
    with_prop, without = outs
    assert with_prop[2] > 0 and with_prop[3] > 0 and with_prop[0] == 0
    assert without[2] == 0 and without[3] == 0 and without[1] > 0


def test_propagation_is_the_recurrence_of_the_public_code():
    block = SpatiotemporalGuidance(8, d_state=4, propagation=0.5)
    steps = torch.randn(2 * 3, 5, 7)  # (B*T, D, L), spatial order
    out = block.propagate(steps, 3, frame_major_tokens=False).reshape(2, 3, 5, 7)
    s = steps.reshape(2, 3, 5, 7)
    torch.testing.assert_close(out[:, 0], s[:, 0])
    torch.testing.assert_close(out[:, 1], s[:, 1] + 0.5 * s[:, 0])
    torch.testing.assert_close(out[:, 2], s[:, 2] + 0.5 * (s[:, 1] + 0.5 * s[:, 0]))
    joint = block.propagate(s.permute(0, 2, 1, 3).reshape(2, 5, 21), 3, True)
    torch.testing.assert_close(joint.reshape(2, 5, 3, 7).permute(0, 2, 1, 3), out)


def test_a_clip_does_not_depend_on_its_batch_and_any_length_works():
    neck = _neck()
    x = torch.randn(B * T, C, H, W)
    with torch.no_grad():
        both = neck(x, clip=_clip())[0]
        alone = neck(x[T:], clip=_clip(1))[0]
        odd = neck(torch.randn(7, C, H, W), clip=_clip(1, 7))[0]
    torch.testing.assert_close(both[T:], alone, rtol=1e-5, atol=1e-6)
    assert odd.shape == (7, C, H, W)


def test_bad_orders_are_refused():
    with pytest.raises(ValueError, match='scan order'):
        SSGNeck(C, scan_orders=('diagonal', ))
