import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from echoseg.models.decode_heads.tsf_head import TSFHead  # noqa: F401 (registers it)
from echoseg.models.utils import ClipContext
from echoseg.registry import MODELS

B, T, C, D, H, W = 2, 4, 16, 16, 32, 32
IGN = 255


# the earlier design (EchoForge-MS): per-class prototypes, one self-attention over [Q; P],
# static classifier, ground-truth references in training and a causal memory at inference
EARLIER = dict(prototypes='per_class', self_attention='joint', static_classifier=True,
               reference_mode='causal')


def _head(**kw):
    cfg = dict(type='TSFHead', in_channels=C, channels=D, num_classes=2, num_heads=4,
               num_queries=4, num_layers=2, dropout_ratio=0.0)
    cfg.update(kw)
    return MODELS.build(cfg)


def _earlier(**kw):
    return _head(**dict(EARLIER, **kw))


def _clip(seed=0, with_gt=True):
    g = torch.Generator().manual_seed(seed)
    labelled = torch.zeros(B, T, dtype=torch.bool)
    labelled[:, 0] = labelled[:, -1] = True
    gt = torch.full((B, T, H, W), IGN, dtype=torch.long)
    gt[:, 0] = (torch.rand(B, H, W, generator=g) > 0.6).long()
    gt[:, -1] = (torch.rand(B, H, W, generator=g) > 0.3).long()
    return ClipContext(B, T, labelled, gt_masks=gt if with_gt else None, input_shape=(H, W))


def _samples(clip):
    out = []
    for m in clip.fold(clip.gt_masks)[clip.labelled_flat]:
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=m.unsqueeze(0))
        out.append(s)
    return out


def _feats(seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(B * T, C, 8, 8, generator=g), )


def test_mask_pool_matches_hand_computation():
    head = _head()
    f = torch.randn(1, D, 2, 2)
    m = torch.zeros(1, 2, 2, 2)
    m[0, 1, 0, 0], m[0, 1, 1, 1] = 1.0, 0.5  # class 1: a full and a half pixel
    m[0, 0] = 1 - m[0, 1]
    sums, areas = head.mask_pool(f, m)
    tokens = head.tokens_from_memory(sums[:, None], areas[:, None], torch.ones(1, 1, 1))[0, 0]
    t1 = (1.0 * f[0, :, 0, 0] + 0.5 * f[0, :, 1, 1]) / 1.5  # eq. 3
    t0 = (f[0, :, 0, 1] + f[0, :, 1, 0] + 0.5 * f[0, :, 1, 1]) / 2.5
    assert torch.allclose(tokens[1], t1, atol=1e-6)
    assert torch.allclose(tokens[0], t0, atol=1e-6)
    # a class without reference pixels takes the learned default token
    m2 = torch.zeros(1, 2, 2, 2)
    m2[0, 0] = 1.0
    sums, areas = head.mask_pool(f, m2)
    tokens = head.tokens_from_memory(sums[:, None], areas[:, None], torch.ones(1, 1, 1))[0, 0]
    assert torch.equal(tokens[1], head.default_tokens[1])


def test_causal_training_references_are_the_other_labelled_frames():
    head = _earlier(noref_loss_weight=0.0)
    clip = _clip()
    seen = {}
    orig = head.segment

    def spy(feats, tokens, *rest):
        seen['tokens'] = tokens.detach()
        return orig(feats, tokens, *rest)

    head.segment = spy
    head.forward_train(_feats(), clip)
    tokens = clip.unfold(seen['tokens'])  # (B, T, N, D)
    proj = clip.unfold(head.project(_feats()).detach())
    gt = clip.gt_masks
    for b in range(B):
        # frame 0 (labelled) pools from frame T-1's GT only, never its own
        m = head.onehot_masks(gt[b, -1:], (8, 8))
        s, a = head.mask_pool(proj[b, -1:], m)
        assert torch.allclose(tokens[b, 0], s[0] / a[0, :, None], atol=1e-5)
        # an unlabelled frame pools from both labelled frames
        m2 = head.onehot_masks(gt[b, [0, -1]], (8, 8))
        s2, a2 = head.mask_pool(proj[b, [0, -1]], m2)
        expected = s2.sum(0) / a2.sum(0)[:, None]
        assert torch.allclose(tokens[b, 1], expected, atol=1e-5)


def test_loss_clip_and_shapes():
    head = _head()
    clip = _clip()
    losses, logits = head.loss_clip(_feats(), clip, _samples(clip))
    assert logits.shape == (B * T, 2, 8, 8)
    assert set(k for k in losses if 'loss' in k) == {'loss_ce', 'loss_ce_noref'}
    head1 = _head(out_channels=1, threshold=0.5,
                  loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=True))
    losses, logits = head1.loss_clip(_feats(), clip, _samples(clip))
    assert logits.shape == (B * T, 1, 8, 8) and torch.isfinite(losses['loss_ce'])
    head1.eval()
    assert head1.predict_clip(_feats(), clip).shape == (B * T, 1, 8, 8)


def test_resize_concat_inputs():
    head = _head(in_channels=[8, C], in_index=[0, 1], input_transform='resize_concat')
    feats = (torch.randn(B * T, 8, 16, 16), torch.randn(B * T, C, 8, 8))
    clip = _clip()
    losses, logits = head.loss_clip(feats, clip, _samples(clip))
    assert logits.shape == (B * T, 2, 16, 16)


COMMON_PARAMS = ('input_proj.conv.weight', 'default_tokens', 'query_feat', 'token_pos',
                 'fusion.token_to_image.attn.in_proj_weight',
                 'fusion.image_to_token.attn.in_proj_weight',
                 'layers.1.cross_attn.attn.in_proj_weight', 'query_mask_embed.2.weight')


@pytest.mark.parametrize('design,names', [
    ({}, COMMON_PARAMS + ('slot_embed', 'layers.0.proto_self_attn.attn.in_proj_weight',
                          'layers.1.ffn_proto.mlp.0.weight')),
    (EARLIER, COMMON_PARAMS + ('proto_embed.2.weight', 'query_assign.weight',
                               'conv_seg.weight'))], ids=['faithful', 'earlier'])
def test_gradients_reach_tsf_parameters(design, names):
    head = _head(**design)
    clip = _clip()
    losses, _ = head.loss_clip(_feats(), clip, _samples(clip))
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    params = dict(head.named_parameters())
    for name in names:
        assert params[name].grad is not None and params[name].grad.abs().sum() > 0, name


def test_inference_reads_no_ground_truth_and_is_causal():
    head = _earlier()
    head.eval()
    feats = _feats()
    with torch.no_grad():
        with_gt = head.predict_clip(feats, _clip(with_gt=True))
        no_gt = head.predict_clip(feats, _clip(with_gt=False))
        other_gt = head.predict_clip(feats, _clip(seed=5, with_gt=True))
        assert torch.equal(with_gt, no_gt) and torch.equal(with_gt, other_gt)
        assert torch.equal(head(feats, _clip(with_gt=True)), no_gt)
        # frames before t do not depend on frame t
        changed = feats[0].clone().reshape(B, T, C, 8, 8)
        changed[:, -1] += 5.0
        out2 = head.predict_clip((changed.reshape(B * T, C, 8, 8), ), _clip(with_gt=False))
    a, b = with_gt.reshape(B, T, 2, 8, 8), out2.reshape(B, T, 2, 8, 8)
    assert torch.equal(a[:, :-1], b[:, :-1]) and not torch.equal(a[:, -1], b[:, -1])


def test_inference_frame0_uses_default_tokens_and_memory_schedule():
    head = _earlier(memory_size=3)
    assert head.reference_frames(0) == []
    assert head.reference_frames(1) == [0]
    assert head.reference_frames(2) == [0, 1]
    assert head.reference_frames(5) == [0, 3, 4]
    head.eval()
    feats = _feats()
    with torch.no_grad():
        out = head.predict_clip(feats, _clip(with_gt=False))
        proj = head.project(feats).reshape(B, T, D, 8, 8)
        first = head.segment(proj[:, 0], head.default_tokens.expand(B, -1, -1))['logits']
    assert torch.allclose(out.reshape(B, T, 2, 8, 8)[:, 0], first, atol=1e-5)


def test_fully_masked_queries_stay_finite():
    head = _earlier()
    head.eval()
    with torch.no_grad():
        # push every query mask below zero: masked attention would block every pixel
        head.query_mask_embed[2].bias.fill_(0)
        head.pixel_embed.bias.fill_(-100.0)
        head.pixel_embed.weight.zero_()
        head.query_mask_embed[2].weight.zero_()
        head.query_mask_embed[2].bias.fill_(1.0)
        out = head.segment(torch.randn(2, D, 4, 4), head.default_tokens.expand(2, -1, -1))
    assert (out['query_masks'] < 0).all()
    assert torch.isfinite(out['logits']).all()


def test_rejects_bad_config():
    with pytest.raises(ValueError):
        _head(out_channels=1, num_classes=3)
    with pytest.raises(ValueError):
        _head(memory_size=0)
    for bad in (dict(prototypes='per_pixel'), dict(self_attention='cross'),
                dict(reference_mode='oracle'), dict(num_queries=1),
                dict(reference_frames=())):
        with pytest.raises(ValueError):
            _head(**bad)


def test_training_leaves_fused_features_for_later_stages():
    head = _earlier(noref_loss_weight=0.5)
    head.eval()  # no dropout: segment() below sees the same computation
    clip = _clip()
    with torch.no_grad():
        logits, _ = head.forward_train(_feats(), clip)
    dec = clip.extras['decoder_features']
    assert dec.shape == (B * T, D, 8, 8)  # every frame, not only the no-reference pass
    with torch.no_grad():
        feats = head.project(_feats())
        masks = feats.new_zeros(B * T, head.num_tokens, 8, 8)
        lab = clip.labelled_flat
        masks[lab] = head.onehot_masks(clip.fold(clip.gt_masks)[lab], (8, 8))
        sums, areas = head.mask_pool(feats, masks)
        tokens = head.tokens_from_memory(clip.unfold(sums), clip.unfold(areas),
                                         head._reference_weights(clip))
        out = head.segment(feats, clip.fold(tokens))
    assert torch.allclose(dec, out['features'], atol=1e-5)
    assert torch.allclose(logits, out['logits'], atol=1e-5)
    # F_t' is what the static classifier reads (K output channels: logits = S + static)
    assert head.out_channels == 2
    assert torch.allclose(head.cls_seg(out['features']), out['logits'] - out['class_logits'],
                          atol=1e-4)


# ------------------------------------------------------------------ the faithful design
def test_prototypes_are_per_query_and_masks_come_from_query_prototype_pairs():
    head = _head(out_channels=1, threshold=0.5,
                 loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=True))
    head.eval()
    feats = head.project(_feats())[:3].detach()
    tokens = torch.randn(3, 2, D)
    with torch.no_grad():
        out = head.segment(feats, tokens)
    assert out['protos'].shape == (3, head.num_queries, D)  # P_sem is N_q x D
    assert out['queries'].shape == (3, head.num_queries, D)
    # class logit = mean of the masks of the class's slots (slot j -> class j mod N)
    masks = out['query_masks'].flatten(2)
    for k in range(2):
        expected = masks[:, k::2].mean(dim=1).reshape(3, 8, 8)
        assert torch.allclose(out['class_logits'][:, k], expected, atol=1e-5)
    # no static classifier: the sigmoid logit is S_1 - S_0
    assert head.conv_seg is None
    assert torch.allclose(out['logits'][:, 0],
                          out['class_logits'][:, 1] - out['class_logits'][:, 0], atol=1e-6)
    # mask j = <MLP(Q_j + P_j), E(F_t')> / sqrt(D), recomputed by hand
    with torch.no_grad():
        fused = out['features'].flatten(2).transpose(1, 2)
        emb = head.query_mask_embed(out['queries'] + out['protos'])
        hand = torch.einsum('nqd,npd->nqp', emb, head.pixel_embed(fused)) / D ** 0.5
    assert torch.allclose(hand, masks, atol=1e-4)


def test_prototype_slots_start_from_their_class_token():
    head = _head()
    tokens = torch.randn(2, 2, D)
    slots = head.slots(tokens)
    assert slots.shape == (2, 4, D)
    for j in range(4):
        assert torch.allclose(slots[:, j], tokens[:, j % 2] + head.slot_embed[j])


@pytest.mark.parametrize('mode,independent', [('separate', True), ('joint', False)])
def test_separate_self_attentions_keep_prototypes_apart_from_queries(mode, independent):
    """SelfAttn(P_sem) does not see Q (the text); the joint [Q; P] attention does."""
    head = _head(self_attention=mode)
    head.eval()
    feats = head.project(_feats())[:2].detach()
    tokens = torch.randn(2, 2, D)
    with torch.no_grad():
        a = head.segment(feats, tokens)['protos']
        head.query_feat.add_(torch.randn_like(head.query_feat))
        b = head.segment(feats, tokens)['protos']
    assert torch.allclose(a, b, atol=1e-6) == independent


def test_masked_attention_follows_the_predicted_class():
    head = _head()
    classes = torch.zeros(1, 2, 6)
    classes[0, 1, :2] = 1.0  # pixels 0-1 predicted as class 1
    blocked = head._attention_mask(None, classes)  # (1, Nq, 6)
    for j in range(head.num_queries):
        own = (torch.arange(6) < 2) if j % 2 == 1 else (torch.arange(6) >= 2)
        assert torch.equal(blocked[0, j], ~own)


def test_two_pass_training_decodes_exactly_as_inference():
    """Train like you test: the training decode reads no ground truth and equals inference."""
    head = _head()
    head.eval()  # same computation (no dropout); the mode switch is not what is tested
    feats, clip = _feats(), _clip()
    with torch.no_grad():
        train_logits, noref = head.forward_train(feats, clip)
        infer = head.predict_clip(feats, _clip(with_gt=False))
        other_gt = head.forward_train(feats, _clip(seed=7))[0]
    assert torch.allclose(train_logits, infer, atol=1e-6)
    assert torch.allclose(train_logits, other_gt, atol=1e-6)
    assert noref.shape == (int(clip.labelled_flat.sum()), 2, 8, 8)
    # pass 2 tokens come from the first and last frame's pass-1 masks, by hand
    with torch.no_grad():
        proj = head.project(feats)
        first = head.segment(proj, head.default_tokens.expand(B * T, -1, -1))['logits']
        m = clip.unfold(head.memory_masks(first))
        p = clip.unfold(proj)
        s, a = head.mask_pool(p[:, [0, -1]].flatten(0, 1), m[:, [0, -1]].flatten(0, 1))
        s, a = s.reshape(B, 2, 2, D).sum(1), a.reshape(B, 2, 2).sum(1)
        tokens = (s / a.clamp_min(1e-6)[..., None])
        tokens = torch.where(a[..., None] <= 1e-6, head.default_tokens, tokens)
        hand = head.segment(proj, tokens.repeat_interleave(T, dim=0))['logits']
    assert torch.allclose(hand, infer, atol=1e-5)


def test_two_pass_references_are_the_first_and_last_frame_only():
    head = _head()
    head.eval()
    feats = _feats()[0].reshape(B, T, C, 8, 8)
    with torch.no_grad():
        base = head.predict_clip((feats.flatten(0, 1), ), _clip(with_gt=False))
        mid = feats.clone()
        mid[:, 1] += 3.0  # a middle frame is nobody's reference
        out_mid = head.predict_clip((mid.flatten(0, 1), ), _clip(with_gt=False))
        first = feats.clone()
        first[:, 0] += 3.0  # frame 0 is everybody's reference
        out_first = head.predict_clip((first.flatten(0, 1), ), _clip(with_gt=False))
    a, b, c = (x.reshape(B, T, 2, 8, 8) for x in (base, out_mid, out_first))
    assert torch.equal(a[:, [0, 2, 3]], b[:, [0, 2, 3]]) and not torch.equal(a[:, 1], b[:, 1])
    assert not torch.allclose(a[:, 2], c[:, 2])


def test_two_pass_gt_uses_ground_truth_references_in_training_only():
    head = _head(reference_mode='two_pass_gt')
    head.eval()
    feats = _feats()
    with torch.no_grad():
        a = head.forward_train(feats, _clip(seed=0))[0]
        b = head.forward_train(feats, _clip(seed=3))[0]
        infer = head.predict_clip(feats, _clip(seed=0))
        plain = _head()
        plain.load_state_dict(head.state_dict())
        plain.eval()
        assert torch.allclose(infer, plain.predict_clip(feats, _clip(with_gt=False)))
    assert not torch.allclose(a, b)  # the ground truth of the references is read


# ------------------------------------------------------------------ with a pixel decoder
# mmdet's MSDeformAttnPixelDecoder, shallow and narrow; the head fills in its widths
LEVELS = (8, 12, 16, C)  # channels of levels at strides 4, 8, 16, 32
SIZE = 64  # input size: levels of 16, 8, 4, 2 pixels


def _decoder_cfg(**kw):
    cfg = dict(type='mmdet.MSDeformAttnPixelDecoder', strides=[4, 8, 16, 32], num_outs=3,
               norm_cfg=dict(type='GN', num_groups=4), act_cfg=dict(type='ReLU'),
               encoder=dict(num_layers=1, layer_cfg=dict(
                   self_attn_cfg=dict(num_heads=4, num_levels=3, num_points=4, dropout=0.0,
                                      batch_first=True),
                   ffn_cfg=dict(feedforward_channels=32, num_fcs=2, ffn_drop=0.0,
                                act_cfg=dict(type='ReLU', inplace=True)))),
               positional_encoding=dict(normalize=True))
    cfg.update(kw)
    return cfg


def _decoder_head(**kw):
    cfg = dict(in_channels=list(LEVELS), in_index=[0, 1, 2, 3],
               input_transform='multiple_select', pixel_decoder=_decoder_cfg(),
               out_channels=1, threshold=0.5, num_layers=1, cpr_features='mask',
               loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=True))
    cfg.update(kw)
    return _head(**cfg)


def _levels(seed=0, n=B * T):
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(n, c, SIZE // s, SIZE // s, generator=g)
                 for c, s in zip(LEVELS, (4, 8, 16, 32)))


def test_pixel_decoder_gives_stride_4_mask_features_and_logits():
    head = _decoder_head()
    head.eval()
    dec = head.pixel_decoder
    # built at the head's width from the head's own levels
    assert [c.conv.in_channels for c in dec.input_convs] == [C, 16, 12]
    assert dec.lateral_convs[0].conv.in_channels == 8
    assert dec.mask_feature.out_channels == D and head.pixel_embed is None
    with torch.no_grad():
        feats, mask_feats = head.encode(_levels())
        logits = head.predict_clip(_levels(), _clip(with_gt=False))
    assert mask_feats.shape == (B * T, D, SIZE // 4, SIZE // 4)
    assert feats.shape == (B * T, D, SIZE // 32, SIZE // 32)  # tsf_level 0: stride 32
    assert logits.shape == (B * T, 1, SIZE // 4, SIZE // 4)
    finer = _decoder_head(tsf_level=2)
    with torch.no_grad():
        assert finer.encode(_levels())[0].shape[-1] == SIZE // 8


def test_pixel_decoder_masks_are_made_on_the_mask_features():
    head = _decoder_head()
    head.eval()
    with torch.no_grad():
        feats, mask_feats = head.encode(_levels())
        out = head.segment(feats, torch.randn(B * T, 2, D), mask_feats)
        emb = head.query_mask_embed(out['queries'] + out['protos'])
        hand = torch.einsum('nqd,ndhw->nqhw', emb, mask_feats) / D ** 0.5
    assert torch.allclose(out['query_masks'], hand, atol=1e-4)
    assert out['features'].shape == feats.shape  # F_t' at the level TSF attends
    with pytest.raises(ValueError, match='mask features'):
        head.segment(feats, torch.randn(B * T, 2, D))


def test_masked_attention_on_a_coarser_level_uses_area_averaged_classes():
    head = _head()
    classes = torch.zeros(1, 2, 4, 4)
    classes[0, 1, :2, :2] = 1.0  # the top-left 2 x 2 block is class 1
    blocked = head._attention_mask(None, classes.flatten(2), (4, 4), (2, 2))
    own = torch.tensor([True, False, False, False])  # the top-left cell of the 2 x 2 grid
    for j in range(head.num_queries):
        assert torch.equal(blocked[0, j], ~own if j % 2 == 1 else own)


def test_two_pass_with_a_decoder_trains_as_it_infers_and_pools_area_averaged_masks():
    head = _decoder_head()
    head.eval()
    clip = _clip()
    with torch.no_grad():
        train_logits, noref = head.forward_train(_levels(), clip)
        infer = head.predict_clip(_levels(), _clip(with_gt=False))
        # the masks of pass 1 (stride 4) are area-averaged to F_t's grid (stride 32)
        feats, mask_feats = head.encode(_levels())
        first = head._decode_default(feats, mask_feats)['logits']
        masks = head.memory_masks(first)
        sums, areas = head.mask_pool(feats, masks)
        coarse = torch.nn.functional.avg_pool2d(masks, 8)
        assert torch.allclose(areas, coarse.sum(dim=(2, 3)), atol=1e-5)
        assert torch.allclose(sums, torch.einsum('nkhw,ndhw->nkd', coarse, feats), atol=1e-4)
    assert torch.allclose(train_logits, infer, atol=1e-5)
    assert noref.shape == (int(clip.labelled_flat.sum()), 1, SIZE // 4, SIZE // 4)
    # CPR reads the mask features (cpr_features='mask'), or F_t' ('fused')
    assert torch.allclose(clip.extras['decoder_features'], mask_feats, atol=1e-6)
    fused = _decoder_head(cpr_features='fused')
    clip2 = _clip()
    with torch.no_grad():
        fused.forward_train(_levels(), clip2)
    assert clip2.extras['decoder_features'].shape == (B * T, D, 2, 2)


def test_causal_mode_with_a_decoder():
    head = _decoder_head(reference_mode='causal')
    head.eval()
    clip = _clip()
    with torch.no_grad():
        out = head.predict_clip(_levels(), _clip(with_gt=False))
        logits, _ = head.forward_train(_levels(), clip)
    assert out.shape == logits.shape == (B * T, 1, SIZE // 4, SIZE // 4)


def test_gradients_reach_the_pixel_decoder():
    head = _decoder_head()
    clip = _clip()
    losses, _ = head.loss_clip(_levels(), clip, _samples(clip))
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    params = dict(head.named_parameters())
    for name in ('pixel_decoder.lateral_convs.0.conv.weight', 'pixel_decoder.mask_feature.weight',
                 'pixel_decoder.encoder.layers.0.self_attn.sampling_offsets.weight',
                 'pixel_decoder.input_convs.0.conv.weight', 'query_feat', 'slot_embed'):
        assert params[name].grad is not None and params[name].grad.abs().sum() > 0, name


def test_pixel_decoder_config_errors_name_the_problem():
    with pytest.raises(ValueError, match='multiple_select'):
        _decoder_head(input_transform='resize_concat')
    with pytest.raises(ValueError, match='feat_channels'):
        _decoder_head(pixel_decoder=_decoder_cfg(feat_channels=2 * D))
    with pytest.raises(ValueError, match='in_channels'):
        _decoder_head(pixel_decoder=_decoder_cfg(in_channels=[1, 2, 3, 4]))
    with pytest.raises(ValueError, match='pixel_decoder'):
        _head(cpr_features='mask')
    with pytest.raises(ValueError, match='cpr_features'):
        _decoder_head(cpr_features='both')
    with pytest.raises(ValueError, match='tsf_level'):
        _decoder_head(tsf_level=3)  # the decoder gives 3 levels
    # a value the config gives and that fits is kept
    head = _decoder_head(pixel_decoder=_decoder_cfg(feat_channels=D, in_channels=list(LEVELS)))
    assert head.pixel_decoder.mask_feature.out_channels == D


def _fit(head, image_levels, target, steps):
    """Fit the head alone to one clip's masks; -> Dice of its full-resolution prediction."""
    torch.manual_seed(0)
    opt = torch.optim.Adam(head.parameters(), lr=1e-2)
    labelled = torch.ones(1, 2, dtype=torch.bool)
    clip = ClipContext(1, 2, labelled, gt_masks=target[None], input_shape=target.shape[-2:])
    samples = []
    for m in target:
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=m.unsqueeze(0))
        samples.append(s)
    head.train()
    for _ in range(steps):
        losses, _ = head.loss_clip(image_levels, clip, samples)
        opt.zero_grad()
        sum(v for k, v in losses.items() if 'loss' in k).backward()
        opt.step()
    head.eval()
    with torch.no_grad():
        logits = head.predict_clip(image_levels, ClipContext(1, 2, labelled,
                                                             input_shape=target.shape[-2:]))
    full = torch.nn.functional.interpolate(logits, size=target.shape[-2:], mode='bilinear',
                                           align_corners=False)
    pred = (full[:, 0] > 0).long()
    inter = (pred * target).sum()
    return float(2 * inter / (pred.sum() + target.sum()))


def test_a_tiny_decoder_head_represents_a_pattern_finer_than_32_pixels():
    """A checkerboard of 8-pixel squares, visible in the stride-4 level: the head with the
    pixel decoder learns it; the same head reading the stride-32 level alone (the variant
    EchoForge-ND) cannot, since its 2 x 2 logit map is upsampled bilinearly."""
    yy, xx = torch.meshgrid(torch.arange(SIZE), torch.arange(SIZE), indexing='ij')
    board = (((yy // 8) + (xx // 8)) % 2).long()
    target = torch.stack([board, board])  # two frames, both labelled
    g = torch.Generator().manual_seed(0)
    levels = [0.1 * torch.randn(2, c, SIZE // s, SIZE // s, generator=g)
              for c, s in zip(LEVELS, (4, 8, 16, 32))]
    levels[0][:, 0] += 2.0 * board[::4, ::4].float() - 1.0  # the pattern at stride 4
    levels[3][:, 0] += 2.0 * torch.nn.functional.avg_pool2d(
        board[None, None].float(), 32)[0, 0] - 1.0  # what stride 32 can see of it
    torch.manual_seed(0)
    dice_decoder = _fit(_decoder_head(), tuple(levels), target, steps=30)
    torch.manual_seed(0)
    nd = _head(in_channels=C, in_index=3, out_channels=1, threshold=0.5, num_layers=1,
               loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=True))
    dice_nd = _fit(nd, tuple(levels), target, steps=30)
    assert dice_decoder > 0.9, dice_decoder
    assert dice_nd < 0.75, dice_nd
