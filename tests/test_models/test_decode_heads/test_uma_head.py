"""UMAHead: attention masked to exactly the unreliable pixels, sigmoid once, deep
supervision and the cross-frame boundary constraint."""
import pytest
import torch
from mmengine.registry import init_default_scope

from echoseg.models.layers.pixel_decoder import msdeform_pixel_decoder
from echoseg.models.segmentors.echo_video_segmentor import EchoVideoSegmentor
from echoseg.models.utils import ClipContext
from echoseg.registry import MODELS

CHANNELS = [8, 16, 32, 64]


@pytest.fixture(autouse=True)
def scope():
    init_default_scope('echoseg')


def _head(**kw):
    torch.manual_seed(0)
    cfg = dict(type='UMAHead', in_channels=CHANNELS, in_index=[0, 1, 2, 3], channels=16,
               num_heads=4, num_layers=3, ffn_channels=32, num_classes=2, out_channels=1,
               threshold=0.5, loss_decode=dict(type='BCEDiceLoss'),
               loss_temporal=dict(type='CrossFrameBoundaryLoss'))
    cfg.update(kw)
    head = MODELS.build(cfg)
    head.init_weights()
    return head


def _feats(n, size=32):
    g = torch.Generator().manual_seed(0)
    return [torch.randn(n, c, size // 2 ** i, size // 2 ** i, generator=g)
            for i, c in enumerate(CHANNELS)]


def _logit(p):
    p = torch.as_tensor(p, dtype=torch.float64)
    return (p / (1 - p)).log().float()


def test_uma_mask_selects_exactly_the_pixels_in_the_interval():
    head = _head()
    probs = torch.tensor([0.0, 0.1, 0.39, 0.399, 0.401, 0.45, 0.5, 0.55, 0.599, 0.601, 0.61,
                          0.9, 1.0]).clamp(1e-6, 1 - 1e-6)
    logits = _logit(probs).view(1, 1, 1, -1)
    blocked = head.uma_mask(logits, (1, probs.numel()))[0, 0]
    # exactly 0.401 .. 0.599 (written out, not recomputed)
    assert (~blocked).tolist() == [False] * 4 + [True] * 5 + [False] * 4
    # another interval
    head = _head(uncertainty_interval=(0.3, 0.5))
    blocked = head.uma_mask(logits, (1, probs.numel()))[0, 0]
    assert torch.equal(~blocked, (probs >= 0.3) & (probs <= 0.5))


def test_softmax_heads_use_each_query_class_probability():
    head = _head(out_channels=2)
    logits = torch.zeros(1, 2, 1, 3)
    logits[0, 1] = torch.tensor([0.0, 0.2, 3.0])   # p1 = 0.5, 0.55, 0.95
    blocked = head.uma_mask(logits, (1, 3))[0]
    assert blocked.tolist() == [[False, False, True], [False, False, True]]


def test_cross_attention_sees_only_unreliable_pixels_or_everything_when_none():
    head = _head()
    layer = head.layers[0]
    n, hw, d = 2, 12, 16
    queries, memory = torch.randn(n, 1, d), torch.randn(n, hw, d)
    blocked = torch.ones(n, 1, hw, dtype=torch.bool)
    blocked[0, 0, [2, 5, 7]] = False                   # clip 0: three unreliable pixels
    # clip 1: no unreliable pixel -> attends everywhere
    _, weights = layer.cross_attn(queries, memory, attn_mask=blocked, return_weights=True)
    assert torch.all(weights[0, 0, blocked[0, 0]] == 0)
    assert torch.all(weights[0, 0, ~blocked[0, 0]] > 0)
    assert torch.all(weights[1, 0] > 0)
    torch.testing.assert_close(weights.sum(-1), torch.ones(n, 1))


def test_every_layer_is_masked_by_the_previous_prediction():
    head = _head()
    feats = _feats(2)
    seen = []

    def grab(module, args, kwargs):
        seen.append(kwargs['attn_mask'].clone())
    hooks = [layer.cross_attn.register_forward_pre_hook(grab, with_kwargs=True)
             for layer in head.layers]
    with torch.no_grad():
        preds, _ = head.decode(feats)
    for h in hooks:
        h.remove()
    _, memories = head.multi_scale_features(feats)
    assert len(preds) == len(head.layers) + 1 and len(seen) == len(head.layers)
    for i, mask in enumerate(seen):
        size = memories[i % len(memories)].shape[-2:]      # coarse to fine, round robin
        assert torch.equal(mask, head.uma_mask(preds[i], size))


def _clip(labelled):
    b, t = labelled.shape
    return ClipContext(batch_size=b, num_frames=t, labelled=labelled, input_shape=(32, 32))


def test_loss_applies_the_sigmoid_once():
    """A confident, correct prediction costs ~0; a second sigmoid could not go below
    BCE(sigmoid(0.5)) > 0.3 on background pixels."""
    head = _head(loss_temporal=None)
    gt = torch.zeros(2, 32, 32, dtype=torch.long)
    gt[:, 8:24, 8:24] = 1
    perfect = (gt.float() * 2 - 1).mul(30).unsqueeze(1)
    head.decode = lambda inputs: ([perfect] * 4, torch.zeros(2, 16, 8, 8))
    losses, _ = head.loss_clip(_feats(2), _clip(torch.ones(1, 2, dtype=torch.bool)),
                               EchoVideoSegmentor._frame_samples(gt))
    for key, value in losses.items():
        if 'loss' in key:
            assert value < 1e-3, key


def test_loss_clip_deep_supervision_and_cross_frame_constraint():
    head = _head()
    labelled = torch.tensor([[True, False, True], [True, False, True]])
    gt = (torch.rand(4, 32, 32) > 0.5).long()
    losses, logits = head.loss_clip(_feats(6), clip := _clip(labelled),
                                    EchoVideoSegmentor._frame_samples(gt))
    assert logits.shape == (6, 1, 32, 32)           # at the finest level (mask features)
    expected = {'loss_bce_dice', 'loss_cross_frame_boundary'} | \
        {f'd{i}.loss_bce_dice' for i in range(3)}
    assert expected <= set(losses)
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    assert clip.extras["decoder_features"].shape == (6, 16, 32, 32)
    # no labelled frame: a zero supervised term, the temporal term still there
    losses, _ = head.loss_clip(_feats(6), _clip(torch.zeros(2, 3, dtype=torch.bool)), [])
    assert losses['loss_none'] == 0 and 'loss_cross_frame_boundary' in losses


def _deform_head(**kw):
    """The authors' pixel decoder, narrowed: 16 wide, 1 encoder layer, 4 GroupNorm groups."""
    decoder = msdeform_pixel_decoder(num_layers=1, ffn_channels=32, num_groups=4)
    return _head(pixel_decoder=decoder, **kw)


def test_deformable_pixel_decoder_is_mmdets_with_the_heads_widths_and_strides():
    from mmcv.ops import MultiScaleDeformableAttention
    from mmdet.models.layers import MSDeformAttnPixelDecoder
    head = _deform_head()
    dec = head.pixel_decoder
    assert isinstance(dec, MSDeformAttnPixelDecoder)
    assert not hasattr(head, 'lateral')                  # no FPN beside it
    attn = [m for m in dec.modules() if isinstance(m, MultiScaleDeformableAttention)]
    assert len(attn) == 1 and attn[0].embed_dims == 16 and attn[0].num_levels == 3
    assert attn[0].num_points == 4 and attn[0].num_heads == 8
    # the head's init_weights ran mmcv's own initialisation of the deformable attention:
    # zero offset weights, offsets biased to a grid of directions
    assert attn[0].sampling_offsets.weight.abs().sum() == 0
    assert attn[0].sampling_offsets.bias.abs().sum() > 0
    # levels at strides 4, 8, 16, 32 of a 64 x 64 input
    feats = _feats(2, size=16)
    with torch.no_grad():
        mask_features, memories = head.multi_scale_features(feats)
    assert tuple(mask_features.shape) == (2, 16, 16, 16)            # stride 4
    assert [tuple(m.shape[-2:]) for m in memories] == [(2, 2), (4, 4), (8, 8)]  # 32, 16, 8
    assert all(m.shape[:2] == (2, 16) for m in memories)
    # a narrower head narrows its decoder
    dec8 = _deform_head(channels=8, num_heads=2).pixel_decoder
    assert dec8.mask_feature.out_channels == 8


def test_deformable_decoder_head_trains_and_every_parameter_learns():
    head = _deform_head(loss_temporal=None)
    labelled = torch.tensor([[True, False, True]])
    gt = (torch.rand(2, 32, 32, generator=torch.Generator().manual_seed(1)) > 0.5).long()
    losses, logits = head.loss_clip(_feats(3), _clip(labelled),
                                    EchoVideoSegmentor._frame_samples(gt))
    assert logits.shape == (3, 1, 32, 32)
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    missing = [n for n, p in head.named_parameters() if p.grad is None]
    assert not missing


def test_decoder_layers_ffn_is_relu_by_default():
    from torch import nn
    assert isinstance(_head().layers[0].ffn.mlp[1], nn.ReLU)
    assert isinstance(_head(ffn_activation='gelu').layers[0].ffn.mlp[1], nn.GELU)


def test_invalid_arguments():
    with pytest.raises(ValueError, match='num_feature_levels'):
        _deform_head(num_feature_levels=2)
    with pytest.raises(ValueError, match='uncertainty_interval'):
        _head(uncertainty_interval=(0.7, 0.4))
    with pytest.raises(ValueError, match='divisible'):
        _head(num_heads=3)
