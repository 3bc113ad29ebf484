"""MRPNeck: affinities, decoder-free convex upsampling (eq. 5), the segmentor hook."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import init_default_scope

from echoseg.models.necks.mrp_neck import (LOGIT_UPSAMPLER_KEY, AffinityEstimator, MRPNeck,
                                           convex_upsample)
from echoseg.models.utils import ClipContext
from echoseg.registry import MODELS
from echoseg.testing import make_clip_batch, tiny_segmentor_cfg


@pytest.fixture(autouse=True)
def scope():
    init_default_scope('echoseg')


def _random_affinities(n, s, h, w, m=3, seed=0):
    est = AffinityEstimator(4, s, m)
    torch.manual_seed(seed)
    with torch.no_grad():
        return est(torch.randn(n, 4, h, w) * 3)


def test_affinities_sum_to_one_over_in_image_neighbours_only():
    h, w, s, m = 4, 5, 2, 3
    a = _random_affinities(2, s, h, w, m)
    assert a.shape == (2, m * m, s, s, h, w)
    # brute force: neighbour j = (dy, dx) row-major over the window is in the image iff
    # 0 <= y + dy < h and 0 <= x + dx < w
    for y in range(h):
        for x in range(w):
            for j in range(m * m):
                dy, dx = j // m - m // 2, j % m - m // 2
                inside = 0 <= y + dy < h and 0 <= x + dx < w
                weights = a[:, j, :, :, y, x]
                if inside:
                    assert bool((weights > 0).all())
                else:
                    assert bool((weights == 0).all()), (y, x, j)
    torch.testing.assert_close(a.sum(dim=1), torch.ones(2, s, s, h, w))


def test_upsampling_a_constant_map_keeps_it_constant():
    a = _random_affinities(2, 4, 3, 3)
    x = torch.full((2, 3, 3, 3), 2.5)
    out = convex_upsample(x, a)
    assert out.shape == (2, 3, 12, 12)
    torch.testing.assert_close(out, torch.full_like(out, 2.5))


def test_identity_affinities_give_nearest_upsampling():
    n, s, h, w, m = 2, 3, 4, 5, 3
    a = torch.zeros(n, m * m, s, s, h, w)
    a[:, (m * m) // 2] = 1.0  # all weight on the centre neighbour
    x = torch.randn(n, 2, h, w)
    out = convex_upsample(x, a)
    torch.testing.assert_close(out, F.interpolate(x, scale_factor=s, mode='nearest'))


def test_convex_upsampling_matches_eq5_by_brute_force():
    n, s, h, w, m = 1, 2, 3, 4, 3
    a = _random_affinities(n, s, h, w, m, seed=3)
    x = torch.randn(n, 2, h, w)
    out = convex_upsample(x, a)
    ref = torch.zeros(n, 2, h * s, w * s)
    for y in range(h):
        for xx in range(w):
            for i in range(s):
                for k in range(s):
                    acc = torch.zeros(n, 2)
                    for j in range(m * m):
                        dy, dx = j // m - 1, j % m - 1
                        if 0 <= y + dy < h and 0 <= xx + dx < w:
                            acc += a[:, j, i, k, y, xx, None] * x[:, :, y + dy, xx + dx]
                    ref[:, :, y * s + i, xx * s + k] = acc
    torch.testing.assert_close(out, ref)


def test_affinity_softmax_starts_unsaturated():
    torch.manual_seed(0)
    est = AffinityEstimator(64, 2)
    est.train()  # batch statistics: the normalised features the estimator sees
    with torch.no_grad():
        a = est(torch.randn(4, 64, 8, 8) * 5 + 1)
    inner = a[..., 1:-1, 1:-1]  # pixels with all 9 neighbours in the image
    top = inner.max(dim=1).values
    entropy = -(inner * inner.clamp_min(1e-12).log()).sum(dim=1)
    # a one-hot (saturated) softmax has max 1 and entropy 0; uniform: 1/9 and log 9
    assert float(top.max()) < 0.9
    assert float(top.mean()) < 0.4
    assert float(entropy.mean()) > 0.7 * math.log(9)


def _feats(channels=(4, 8, 8, 8), sizes=(8, 4, 4, 4), n=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(n, c, s, s, generator=g) for c, s in zip(channels, sizes))


def test_chain_reaches_the_input_and_starts_at_the_coarsest_level_of_a_size():
    torch.manual_seed(0)
    neck = MRPNeck(in_channels=[4, 8, 8, 8], scales=(4, 2, 1, 1)).eval()
    feats = _feats()
    clip = ClipContext(batch_size=1, num_frames=2, labelled=torch.zeros(1, 2),
                       input_shape=(32, 32))
    with torch.no_grad():
        out = neck(feats, clip=clip)
    assert all(o is f for o, f in zip(out, feats))  # features pass unchanged
    up = clip.extras[LOGIT_UPSAMPLER_KEY]
    x = torch.randn(2, 1, 4, 4)
    # a 4 x 4 map (levels 1-3) goes through levels 3, 2, 1, 0 in turn
    ref = x
    for a in reversed(up.affinities):
        ref = convex_upsample(ref, a)
    torch.testing.assert_close(up(x), ref)
    assert up(x).shape == (2, 1, 32, 32)
    # a frame subset uses the matching frames' affinities
    torch.testing.assert_close(up(x[1:], torch.tensor([False, True])), ref[1:])
    # a map at the input size is returned as it is; an unknown size is an error
    y = torch.randn(2, 1, 32, 32)
    assert up(y) is y
    with pytest.raises(ValueError, match='matches no level'):
        up(torch.randn(2, 1, 5, 5))


def test_bad_configs_and_inputs_are_clear_errors():
    with pytest.raises(ValueError, match='one entry per level'):
        MRPNeck(in_channels=[4, 8], scales=(4, 2, 2))
    with pytest.raises(ValueError, match='odd'):
        MRPNeck(in_channels=[4], scales=(4, ), neighbourhood=2)
    with pytest.raises(ValueError, match='integers'):
        MRPNeck(in_channels=[4], scales=(1.5, ))
    neck = MRPNeck(in_channels=[4, 8, 8, 8], scales=(4, 2, 2, 2))
    clip = ClipContext(batch_size=1, num_frames=2, labelled=torch.zeros(1, 2),
                       input_shape=(32, 32))
    with pytest.raises(ValueError, match='multiple of the total stride'):
        neck(_feats(), clip=clip)  # levels 2, 3 are not halved


def _mrp_fcn_model():
    cfg = tiny_segmentor_cfg(neck=dict(type='MRPNeck', in_channels=[8, 16, 32, 64],
                                       scales=(4, 2, 2, 2)))
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def test_segmentor_sends_stock_head_logits_through_the_upsampler():
    model = _mrp_fcn_model().eval()
    inputs, samples = make_clip_batch(batch_size=1, num_frames=3, size=(64, 64))
    data = model.data_preprocessor(dict(inputs=inputs, data_samples=samples), False)
    x = data['inputs']
    with torch.no_grad():
        logits = model._forward(x, data['data_samples'])
        # independently: backbone, the neck's affinities, FCNHead, the chain of eq. 5
        feats = model.backbone(x.flatten(0, 1))
        coarse = model.decode_head(feats)
        ref = coarse
        for a in reversed(model.neck.upsampler(feats, (64, 64)).affinities):
            ref = convex_upsample(ref, a)
    assert coarse.shape[-2:] == (2, 2) and logits.shape[-2:] == (64, 64)
    torch.testing.assert_close(logits, ref)
    bilinear = F.interpolate(coarse, size=(64, 64), mode='bilinear', align_corners=False)
    assert (logits - bilinear).abs().max() > 1e-3


def test_stock_head_loss_trains_the_affinity_estimators():
    model = _mrp_fcn_model().train()
    inputs, samples = make_clip_batch(batch_size=2, num_frames=3, size=(64, 64))
    data = model.data_preprocessor(dict(inputs=inputs, data_samples=samples), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    for est in model.neck.estimators:
        assert est.logits.weight.grad is not None
        assert float(est.logits.weight.grad.abs().sum()) > 0


def test_public_initialisation_uses_the_relu_gain_for_the_logit_conv():
    torch.manual_seed(0)
    ours = AffinityEstimator(64, 2)
    public = AffinityEstimator(64, 2, init_mode='public')
    fan_in = 64 * 9
    assert abs(float(ours.logits.weight.std()) * math.sqrt(fan_in) - 1.0) < 0.05
    assert abs(float(public.logits.weight.std()) * math.sqrt(fan_in) - math.sqrt(2)) < 0.07
    neck = MRPNeck(in_channels=[8, 16], scales=(4, 2), init_mode='public')
    assert all(abs(float(e.logits.weight.std()) * math.sqrt(e.logits.weight[0].numel())
                   - math.sqrt(2)) < 0.1 for e in neck.estimators)
    with pytest.raises(ValueError, match='init_mode'):
        AffinityEstimator(8, 2, init_mode='xavier')
