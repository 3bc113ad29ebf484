"""NCMNeck: each query sees exactly its spatio-temporal window, within its own clip."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from echoseg.models.necks import NCMNeck
from echoseg.models.utils import ClipContext
from echoseg.registry import MODELS

CHANNELS = [8, 16, 32, 64]


def _feats(b, t, size=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(b * t, c, size // 2 ** i, size // 2 ** i, generator=g)
            for i, c in enumerate(CHANNELS)]


def _clip(b, t):
    return ClipContext(batch_size=b, num_frames=t, labelled=torch.zeros(b, t))


def _neck(**kw):
    torch.manual_seed(0)
    cfg = dict(in_channels=CHANNELS, num_layers=1, num_heads=4, ffn_channels=32,
               cross_scale_channels=16)
    cfg.update(kw)
    return NCMNeck(**cfg).eval()


def _bump(shape, seed=1):
    """A random perturbation (a constant one would vanish in the LayerNorms)."""
    return 5.0 * torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def _working(neck, feats, clip):
    with torch.no_grad():
        return neck(feats, clip=clip)[2]


def test_registered_and_other_levels_pass_through():
    neck = MODELS.build(dict(type='NCMNeck', in_channels=CHANNELS, num_layers=1,
                             ffn_channels=32, cross_scale_channels=16))
    feats = _feats(2, 3)
    out = neck(feats, clip=_clip(2, 3))
    assert [tuple(o.shape) for o in out] == [tuple(f.shape) for f in feats]
    for i in (0, 1, 3):
        assert out[i] is feats[i]
    assert NCMNeck.temporal is True


def test_perturbation_outside_the_window_changes_nothing_inside_changes_the_query():
    # one layer without the cross-scale step: the receptive field is exactly the window
    neck = _neck(cross_scale_index=(), kernel_size=(3, 3, 3))
    b, t = 1, 6
    feats = _feats(b, t)                         # working level: 6 frames of 4 x 4
    base = _working(neck, feats, _clip(b, t))
    query = (1, 1, 1)                            # frame 1, row 1, col 1: window t 0-2, h/w 0-2
    for pos, inside in (((4, 1, 1), False), ((1, 3, 1), False), ((1, 1, 3), False),
                        ((3, 3, 3), False), ((2, 2, 2), True), ((0, 0, 0), True),
                        ((1, 1, 1), True)):
        changed = [f.clone() for f in feats]
        changed[2][pos[0], :, pos[1], pos[2]] += _bump(changed[2].shape[1])
        out = _working(neck, changed, _clip(b, t))
        diff = (out[query[0], :, query[1], query[2]]
                - base[query[0], :, query[1], query[2]]).abs().max()
        if inside:
            assert diff > 1e-4, pos
        else:
            assert diff == 0, pos


def test_window_is_shifted_inwards_at_the_clip_border():
    # frame 0 with a 3-frame window sees frames 0-2 (NATTEN's border rule), not only 0-1
    neck = _neck(cross_scale_index=(), kernel_size=(3, 1, 1))
    feats = _feats(1, 5)
    base = _working(neck, feats, _clip(1, 5))
    for frame, inside in ((2, True), (3, False)):
        changed = [f.clone() for f in feats]
        changed[2][frame] += _bump(changed[2][frame].shape)
        out = _working(neck, changed, _clip(1, 5))
        assert ((out[0] - base[0]).abs().max() > 1e-4) == inside, frame


def test_default_7x7x7_window_on_a_10_frame_clip():
    neck = _neck(cross_scale_index=())
    assert neck.layers[0].attn.kernel_size == (7, 7, 7)
    feats = _feats(1, 10, size=40)               # working level 10 x 10 x 10
    base = _working(neck, feats, _clip(1, 10))
    # query (frame 0, 0, 0): window frames 0-6, rows 0-6, cols 0-6
    for pos, inside in (((6, 6, 6), True), ((7, 0, 0), False), ((0, 7, 0), False),
                        ((0, 0, 7), False)):
        changed = [f.clone() for f in feats]
        changed[2][pos[0], :, pos[1], pos[2]] += _bump(changed[2].shape[1])
        diff = (_working(neck, changed, _clip(1, 10))[0, :, 0, 0] - base[0, :, 0, 0])
        assert (diff.abs().max() > 1e-4) == inside, pos


def test_clips_do_not_see_each_other_and_no_clip_means_single_frames():
    neck = _neck()
    feats = _feats(2, 3)
    base = _working(neck, feats, _clip(2, 3))
    changed = [f.clone() for f in feats]
    for f in changed:
        f[3:] += _bump(f[3:].shape)               # every level of the second clip
    out = _working(neck, changed, _clip(2, 3))
    assert torch.equal(out[:3], base[:3])
    assert not torch.allclose(out[3:], base[3:])
    # without a ClipContext each frame is its own clip: frames do not mix
    alone = _working(neck, feats, None)
    single = _working(neck, [f[:1] for f in feats], None)
    torch.testing.assert_close(alone[:1], single)


def test_cross_scale_step_reads_the_other_levels_spatially():
    neck = _neck(kernel_size=(1, 1, 1), cross_scale_kernel=3, cross_scale_index=(1, 3))
    feats = _feats(1, 2)
    base = _working(neck, feats, _clip(1, 2))
    for level in (1, 3):
        changed = [f.clone() for f in feats]
        changed[level] += _bump(changed[level].shape)
        assert not torch.allclose(_working(neck, changed, _clip(1, 2)), base), level
    # spatially local: a change at level 1's far corner (pooled into working pixel (3, 3))
    # leaves working pixel (0, 0) unchanged with a 3 x 3 cross-scale window
    changed = [f.clone() for f in feats]
    changed[1][:, :, 6:, 6:] += _bump(changed[1][:, :, 6:, 6:].shape)
    out = _working(neck, changed, _clip(1, 2))
    assert torch.equal(out[:, :, 0, 0], base[:, :, 0, 0])
    assert not torch.allclose(out[:, :, 3, 3], base[:, :, 3, 3])
    # disabled: other levels are not read
    plain = _neck(cross_scale_index=())
    changed = [f.clone() for f in feats]
    changed[3] += _bump(changed[3].shape)
    assert torch.equal(_working(plain, changed, _clip(1, 2)),
                       _working(plain, feats, _clip(1, 2)))


@pytest.mark.parametrize('form', ['fork', 'prenorm'])
def test_gradients_reach_every_parameter(form):
    neck = _neck(num_layers=2, cross_scale_index=(1, 3), layer_form=form).train()
    out = neck(_feats(1, 3), clip=_clip(1, 3))
    out[2].square().mean().backward()
    missing = [n for n, p in neck.named_parameters() if p.grad is None]
    assert not missing


def _ln(x, norm):
    return F.layer_norm(x, norm.normalized_shape, norm.weight, norm.bias, norm.eps)


def _mlp(x, mlp, act):
    return F.linear(act(F.linear(x, mlp[0].weight, mlp[0].bias)), mlp[3].weight, mlp[3].bias)


def test_default_is_the_forks_layer_relu_ffn_its_residuals_no_cross_scale():
    neck = _neck()
    assert neck.cross_scale_index == [] and len(neck.scale_proj) == 0
    layer = neck.layers[0]
    assert layer.form == 'fork' and layer.cross_scale is None
    assert isinstance(layer.ffn.mlp[1], nn.ReLU)
    # one LayerNorm before the attention and one shared by the FFN's two uses
    assert sum(isinstance(m, nn.LayerNorm) for m in layer.modules()) == 2
    x = torch.randn(1, 4, 4, 4, 32, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        out = layer(x)
        # independent: A = X + NA(LN1 X); Y = LN2(A); Z = A + LN2(Y + W2 relu(W1 Y)); X' = Z + X
        a = x + layer.attn(_ln(x, layer.norm))
        y = _ln(a, layer.ffn.norm)
        expected = a + _ln(y + _mlp(y, layer.ffn.mlp, F.relu), layer.ffn.norm) + x
    torch.testing.assert_close(out, expected)
    assert out.shape == x.shape
    # the identity path doubles: attention and FFN outputs zeroed -> X' = 2 X
    with torch.no_grad():
        layer.attn.proj.weight.zero_()
        layer.attn.proj.bias.zero_()
        layer.ffn.norm.weight.zero_()
        layer.ffn.norm.bias.zero_()
        torch.testing.assert_close(layer(x), 2 * x)


def test_prenorm_form_is_the_earlier_layer():
    layer = _neck(layer_form='prenorm').layers[0]
    assert isinstance(layer.ffn.mlp[1], nn.GELU)
    x = torch.randn(1, 3, 4, 4, 32, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        a = x + layer.attn(_ln(x, layer.norm))
        expected = a + _mlp(_ln(a, layer.ffn.norm), layer.ffn.mlp, F.gelu)
        torch.testing.assert_close(layer(x), expected)


def test_fork_neck_output_shapes_on_the_r50_level_layout():
    neck = NCMNeck([16, 32, 64, 128], num_layers=2, num_heads=4, ffn_channels=64).eval()
    feats = [torch.randn(6, c, 64 // s, 64 // s) for c, s in zip([16, 32, 64, 128],
                                                                  [4, 8, 16, 32])]
    with torch.no_grad():
        out = neck(feats, clip=_clip(2, 3))
    assert [tuple(o.shape) for o in out] == [tuple(f.shape) for f in feats]
    assert not torch.allclose(out[2], feats[2])


def test_invalid_arguments():
    with pytest.raises(ValueError, match='cross_scale_index'):
        NCMNeck(CHANNELS, in_index=2, cross_scale_index=(2, ))
    with pytest.raises(ValueError, match='divisible'):
        NCMNeck(CHANNELS, num_heads=5)
    with pytest.raises(ValueError, match='layer_form'):
        NCMNeck(CHANNELS, layer_form='postnorm')
