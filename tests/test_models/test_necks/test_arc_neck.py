import math

import pytest
import torch

from echoseg.models.necks.arc_neck import AnchorRecalibration, ARCNeck
from echoseg.registry import MODELS


def _onehot(c, i):
    v = torch.zeros(c)
    v[i] = 1.0
    return v


def _patch_image(patches, c=4, p=2):
    """2x2 grid of p x p patches; patches[k] is either a vector or a (c, p, p) block."""
    x = torch.zeros(1, c, 2 * p, 2 * p)
    for k, val in enumerate(patches):
        r, col = divmod(k, 2)
        block = val if val.dim() == 3 else val.view(c, 1, 1).expand(c, p, p)
        x[0, :, r * p:(r + 1) * p, col * p:(col + 1) * p] = block
    return x


def _expected_weight(p_fg, lo=0.4, hi=0.6, max_weight=0.5):
    half = hi - 0.5 if p_fg >= 0.5 else 0.5 - lo
    return max_weight * (1 - abs(p_fg - 0.5) / half)


def test_build_from_registry_and_shapes():
    neck = MODELS.build(dict(type='ARCNeck', in_channels=[8, 16], num_heads=4, k=4))
    feats = (torch.randn(3, 8, 12, 12), torch.randn(3, 16, 6, 6))
    out = neck(feats)
    assert isinstance(out, tuple) and len(out) == 2
    assert out[0] is feats[0]  # levels not in in_index pass through untouched
    assert out[1].shape == feats[1].shape


def test_confident_patches_unchanged_uncertain_moved_towards_closer_anchor():
    arc = AnchorRecalibration(4, num_anchors=2, k=4, patch_size=2, num_heads=2,
                              temperature=0.1, max_weight=0.5)
    fg, bg = _onehot(4, 0), _onehot(4, 1)
    anchors = torch.stack([fg, bg]).unsqueeze(0)
    amb_fg = torch.tensor([1.0, 0.97, 0.0, 0.0])  # slightly closer to fg
    amb_bg = torch.tensor([0.97, 1.0, 0.0, 0.0])  # slightly closer to bg
    # the ambiguous fg patch varies inside the patch but keeps its mean
    wiggle = torch.tensor([[0.1, -0.1], [-0.1, 0.1]])
    amb_fg_block = amb_fg.view(4, 1, 1) + torch.stack([torch.zeros(2, 2), torch.zeros(2, 2),
                                                       wiggle, -wiggle])
    x = _patch_image([fg * 2.0, bg * 3.0, amb_fg_block, amb_bg])
    res = arc.recalibrate(x, anchors=anchors)
    out = res['out']

    # hand computation of p_fg for the ambiguous patches
    def p_fg_of(v):
        cf = float(v[0] / v.norm())
        cb = float(v[1] / v.norm())
        return 1 / (1 + math.exp(-(cf - cb) / 0.1))

    p1, p2 = p_fg_of(amb_fg), p_fg_of(amb_bg)
    assert 0.5 < p1 < 0.6 and 0.4 < p2 < 0.5
    assert torch.allclose(res['p_fg'][0, 1], torch.tensor([p1, p2]), atol=1e-5)
    assert res['uncertain'][0].tolist() == [[False, False], [True, True]]
    assert res['best'][0, 1].tolist() == [0, 1]

    # confident patches: bit-exact copies
    assert torch.equal(out[..., :2, :], x[..., :2, :])
    # uncertain patches: F' = (1 - w) F + w a_best, per pixel
    w1, w2 = _expected_weight(p1), _expected_weight(p2)
    assert torch.allclose(res['weight'][0, 1], torch.tensor([w1, w2]), atol=1e-5)
    exp_c = (1 - w1) * x[0, :, 2:, :2] + w1 * fg.view(4, 1, 1)
    exp_d = (1 - w2) * x[0, :, 2:, 2:] + w2 * bg.view(4, 1, 1)
    assert torch.allclose(out[0, :, 2:, :2], exp_c, atol=1e-6)
    assert torch.allclose(out[0, :, 2:, 2:], exp_d, atol=1e-6)
    # and they moved towards the closer anchor
    assert (out[0, :, 2:, :2] - fg.view(4, 1, 1)).norm() < (x[0, :, 2:, :2]
                                                          - fg.view(4, 1, 1)).norm()
    assert (out[0, :, 2:, 2:] - bg.view(4, 1, 1)).norm() < (x[0, :, 2:, 2:]
                                                          - bg.view(4, 1, 1)).norm()


def test_most_ambiguous_patch_moves_most():
    arc = AnchorRecalibration(4, num_anchors=2, k=4, patch_size=1, num_heads=2)
    anchors = torch.stack([_onehot(4, 0), _onehot(4, 1)]).unsqueeze(0)
    x = torch.zeros(1, 4, 1, 3)
    x[0, :2, 0, 0] = torch.tensor([1.0, 1.0])  # exact tie
    x[0, :2, 0, 1] = torch.tensor([1.0, 0.98])
    x[0, :2, 0, 2] = torch.tensor([1.0, 0.95])
    w = arc.recalibrate(x, anchors=anchors)['weight'][0, 0]
    assert w[0] == pytest.approx(0.5, abs=1e-6)
    assert w[0] > w[1] > w[2] > 0


def test_single_anchor_moves_only_foreground_side():
    arc = AnchorRecalibration(4, num_anchors=1, k=4, patch_size=1, num_heads=2,
                              temperature=1.0, uncertainty_interval=(0.4, 0.6))
    anchor = _onehot(4, 0).view(1, 1, 4)
    x = torch.zeros(1, 4, 1, 2)
    x[0, :, 0, 0] = torch.tensor([0.2, 1.0, 0.0, 0.0])   # cos ~ 0.196 -> p_fg ~ 0.549
    x[0, :, 0, 1] = torch.tensor([-0.2, 1.0, 0.0, 0.0])  # p_fg ~ 0.451 (background side)
    res = arc.recalibrate(x, anchors=anchor)
    assert 0.5 < res['p_fg'][0, 0, 0] < 0.6 and 0.4 < res['p_fg'][0, 0, 1] < 0.5
    assert res['weight'][0, 0, 0] > 0
    assert torch.equal(res['out'][0, :, 0, 1], x[0, :, 0, 1])


def test_padding_when_not_divisible():
    arc = AnchorRecalibration(8, k=4, patch_size=2, num_heads=2)
    x = torch.randn(2, 8, 5, 7)
    res = arc.recalibrate(x)
    assert res['out'].shape == x.shape
    assert res['p_fg'].shape == (2, 3, 4)
    # the last (partial) patch descriptor is the mean of its real pixels only
    desc = arc._patch_means(x)
    assert torch.allclose(desc[:, :, 2, 3], x[:, :, 4, 6], atol=1e-6)


def test_initial_anchors_are_weighted_average_pooling():
    torch.manual_seed(0)
    arc = AnchorRecalibration(4, num_anchors=2, k=3, num_heads=2)
    x = torch.randn(1, 4, 3, 3)
    init, maps = arc.initial_anchors(x)
    logits = arc.anchor_logits(x)
    m = logits.softmax(dim=1)  # eq. 1
    assert torch.allclose(maps, m)
    for i in range(2):
        expected = (m[0, i] * x[0]).sum(dim=(1, 2)) / m[0, i].sum()  # eq. 2
        assert torch.allclose(init[0, i], expected, atol=1e-6)
    # at initialisation the feature-fusion update is the identity
    assert torch.allclose(arc.update_anchors(x, init), init, atol=1e-6)


def test_knn_selects_the_nearest_pixels():
    torch.manual_seed(1)
    arc = AnchorRecalibration(4, k=5, num_heads=2)
    x = torch.randn(1, 4, 4, 4)
    anchors = torch.randn(1, 2, 4)
    neigh, idx = arc.nearest_neighbours(x, anchors)
    pixels = x.flatten(2)[0].T
    for i in range(2):
        d = (pixels - anchors[0, i]).norm(dim=1)
        assert set(idx[0, i].tolist()) == set(d.argsort()[:5].tolist())
        assert torch.allclose(neigh[0, i], pixels[idx[0, i]])


@pytest.mark.parametrize('embed_dims', [None, 8], ids=['full_width', 'bottleneck'])
def test_gradients_reach_arc_parameters(embed_dims):
    torch.manual_seed(2)
    neck = ARCNeck(in_channels=16, num_heads=4, k=4, temperature=0.05, embed_dims=embed_dims)
    x = torch.randn(4, 16, 8, 8).relu()
    arc = neck.arc['-1']
    assert arc.recalibrate(x)['uncertain'].any()
    out = neck((x, ))[0]
    (out ** 2).sum().backward()
    last = ('up.weight', 'up.bias') if embed_dims else \
        ('fusion_attn.out_proj.weight', 'fusion_ffn.mlp.3.weight')
    for name in ('anchor_logits.weight', ) + last:
        grad = dict(arc.named_parameters())[name].grad
        assert grad is not None and grad.abs().sum() > 0, name
    # after one step away from the identity initialisation every parameter learns
    with torch.no_grad():
        for name in last:
            if name.endswith('weight'):
                dict(arc.named_parameters())[name].normal_(std=0.1)
    neck.zero_grad()
    (neck((x, ))[0] ** 2).sum().backward()
    for name, p in arc.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_full_width_fusion_by_default_and_identity_update_at_init():
    """The paper's anchors are in R^C: no bottleneck unless embed_dims asks for one."""
    arc = ARCNeck(in_channels=64, num_heads=4).arc['-1']
    assert not arc.bottleneck and isinstance(arc.down, torch.nn.Identity)
    assert arc.fusion_attn.embed_dim == 64
    x = torch.randn(2, 64, 6, 6).relu()
    init, _ = arc.initial_anchors(x)
    assert torch.allclose(arc.update_anchors(x, init), init, atol=1e-6)
    narrow = ARCNeck(in_channels=64, num_heads=4, embed_dims=16).arc['-1']
    assert narrow.bottleneck and narrow.fusion_attn.embed_dim == 16
    init, _ = narrow.initial_anchors(x)
    assert torch.allclose(narrow.update_anchors(x, init), init, atol=1e-6)


@pytest.mark.parametrize('channels', [512, 2048])
def test_anchor_softmax_is_not_saturated_at_initialisation(channels):
    """Eq. 1 on random ReLU features right after initialisation: most pixels' maximum
    anchor probability stays below 0.99, so the maps carry a gradient."""
    torch.manual_seed(0)
    arc = ARCNeck(in_channels=channels, num_heads=8).arc['-1']
    x = torch.randn(4, channels, 8, 8).relu()
    maps = arc.anchor_weights(x)
    assert (maps.max(dim=1).values < 0.99).float().mean() > 0.9
    # the earlier Kaiming fan_out initialisation of the C -> 2 conv saturated them
    torch.nn.init.kaiming_normal_(arc.anchor_logits.weight, mode='fan_out',
                                  nonlinearity='relu')
    saturated = arc.anchor_weights(x).max(dim=1).values >= 0.99
    assert saturated.float().mean() > 0.5
