import math

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from echoseg.models.pseudo_labelers.cpr_pseudo_labeler import (  # noqa: F401 (registers)
    CPRPseudoLabeler, clip_affine, warp_maps)
from echoseg.models.utils import ClipContext
from echoseg.registry import MODELS
from echoseg.structures import EchoDataSample

B, T, C, D, H, W, K = 2, 4, 16, 8, 16, 16, 2
IGN = 255


def _cpr(**kw):
    """The earlier design (EchoForge-MS): reliability-weighted vote with a memory."""
    cfg = dict(type='CPRPseudoLabeler', in_channels=C, num_classes=K, channels=D,
               memory_resolution=H, fusion='reliability')
    cfg.update(kw)
    return MODELS.build(cfg)


def _clip(meta=None, labelled_frames=(0, T - 1), oracle=None):
    labelled = torch.zeros(B, T, dtype=torch.bool)
    for t in labelled_frames:
        labelled[:, t] = True
    gt = torch.full((B, T, H, W), IGN, dtype=torch.long)
    g = torch.Generator().manual_seed(3)
    for t in labelled_frames:
        gt[:, t] = (torch.rand(B, H, W, generator=g) > 0.5).long()
    samples = []
    for b in range(B):
        s = EchoDataSample()
        s.set_metainfo(dict(video_id=f'vid{b}', frame_indices=[10 + 3 * t for t in range(T)],
                            **(meta or {})))
        samples.append(s)
    clip = ClipContext(B, T, labelled, gt_masks=gt, input_shape=(H, W), data_samples=samples)
    if oracle is not None:
        clip.extras['oracle_masks'] = oracle
    return clip


def _inputs(seed=0):
    g = torch.Generator().manual_seed(seed)
    feats = (torch.randn(B * T, C, 4, 4, generator=g), )
    logits = torch.randn(B * T, K, H, W, generator=g)
    return logits, feats


def test_channel_attention_is_row_stochastic_and_matches_eq5():
    cpr = _cpr()
    clip = _clip()
    _, feats = _inputs()
    attn, v, has_ref = cpr.channel_attention(feats[0], clip)
    assert attn.shape == (B * T, D, D)
    assert (attn >= 0).all()
    assert torch.allclose(attn.sum(-1), torch.ones(B * T, D), atol=1e-5)
    assert has_ref.all()
    # labelled frame 0 of clip 0 has a single reference, frame T-1: A = softmax(IN(Q^T K))
    x = feats[0]
    q = cpr.q_proj(x[T - 1:T]).flatten(2)[0]  # (D, hw) = Q^T
    k = cpr.k_proj(x[0:1]).flatten(2)[0]
    s = q @ k.T
    s = (s - s.mean()) / torch.sqrt(s.var(unbiased=False) + cpr.attn_norm.eps)
    s = s * cpr.attn_norm.weight + cpr.attn_norm.bias
    assert torch.allclose(attn[0], s.softmax(-1), atol=1e-5)
    # an unlabelled frame averages the attention of both labelled references
    k1 = cpr.k_proj(x[1:2]).flatten(2)[0]
    maps = []
    for r in (0, T - 1):
        qr = cpr.q_proj(x[r:r + 1]).flatten(2)[0]
        s = qr @ k1.T
        s = (s - s.mean()) / torch.sqrt(s.var(unbiased=False) + cpr.attn_norm.eps)
        maps.append((s * cpr.attn_norm.weight + cpr.attn_norm.bias).softmax(-1))
    assert torch.allclose(attn[1], (maps[0] + maps[1]) / 2, atol=1e-5)
    # eq. 6: F_hat = A V^T
    logits, _, _ = cpr.reforge(x, clip)
    assert logits.shape == (B * T, K, 4, 4)


def test_outputs_loss_and_gradients():
    cpr = _cpr()
    clip = _clip()
    logits, feats = _inputs()
    feats = (feats[0].requires_grad_(), )
    out = cpr(logits, feats, clip)
    assert out['labels'].shape == (B * T, H, W) and out['labels'].dtype == torch.long
    assert out['confidence'].shape == (B * T, H, W)
    assert ((out['confidence'] >= 0.5 - 1e-6) & (out['confidence'] <= 1 + 1e-6)).all()
    out['losses']['loss_cpr'].backward()
    for name, p in cpr.named_parameters():
        assert p.grad is not None, name
    for name in ('q_proj.weight', 'k_proj.weight', 'v_proj.weight', 'attn_norm.weight',
                 'semantic_align.1.weight'):
        assert dict(cpr.named_parameters())[name].grad.abs().sum() > 0, name
    assert feats[0].grad is None  # detached features: CPR's loss trains CPR only

    cpr2 = _cpr(detach_features=False)
    feats2 = (feats[0].detach().clone().requires_grad_(), )
    cpr2(logits, feats2, clip)['losses']['loss_cpr'].backward()
    assert feats2[0].grad is not None and feats2[0].grad.abs().sum() > 0


def test_loss_is_cross_entropy_of_reforged_labelled_frames():
    cpr = _cpr()
    clip = _clip()
    logits, feats = _inputs()
    out = cpr(logits, feats, clip)
    cpr_logits, _, _ = cpr.reforge(feats[0], clip)
    full = F.interpolate(cpr_logits, size=(H, W), mode='bilinear', align_corners=False)
    lab = clip.labelled_flat
    expected = F.cross_entropy(full[lab], clip.fold(clip.gt_masks)[lab])
    assert torch.allclose(out['losses']['loss_cpr'], expected, atol=1e-5)


def test_combination_and_previous_epoch_memory():
    cpr = _cpr(fusion='mean')
    clip = _clip()
    logits, feats = _inputs()
    cpr.eval()  # BatchNorm in eval mode: every call below sees the same CPR output
    with torch.no_grad():
        cpr_logits, _, _ = cpr.reforge(feats[0], clip)
    p_model = logits.softmax(1)
    p_cpr = F.interpolate(cpr_logits, size=(H, W), mode='bilinear').softmax(1)
    combined = (p_model + p_cpr) / 2
    # no memory yet: the average of the model and CPR; an eval call writes nothing
    first = cpr(logits, feats, clip)
    assert not cpr.memory
    assert torch.allclose(first['confidence'], combined.max(1).values, atol=1e-5)
    assert torch.equal(first['labels'], combined.argmax(1))
    # a training call stores the unlabelled frames under (video_id, source frame index)
    cpr.train()
    cpr.semantic_align[0].bn.eval()
    cpr(logits, feats, clip)
    assert set(cpr.memory) == {(f'vid{b}', 10 + 3 * t) for b in range(B) for t in (1, 2)}
    # the next visit averages the stored estimate in
    second = cpr(logits, feats, clip)
    expected = (p_model + p_cpr + combined) / 3
    unl = ~clip.labelled_flat
    assert torch.allclose(second['confidence'][unl], expected.max(1).values[unl], atol=3e-3)
    # labelled frames are never stored, and a memory-less labeler ignores it
    off = _cpr(memory_resolution=None, fusion='mean')
    off.load_state_dict(cpr.state_dict())
    off.train()
    off.semantic_align[0].bn.eval()
    off_out = off(logits, feats, clip)
    assert not off.memory
    assert torch.allclose(off_out['confidence'], combined.max(1).values, atol=1e-5)


def test_model_only_when_no_labelled_frame():
    cpr = _cpr(memory_resolution=None)
    clip = _clip(labelled_frames=())
    logits, feats = _inputs()
    out = cpr(logits, feats, clip)
    assert torch.equal(out['labels'], logits.argmax(1))
    assert out['losses']['loss_cpr'].item() == 0.0


def test_one_channel_model_logits():
    cpr = _cpr(memory_resolution=None, cpr_weight=0.0)
    clip = _clip()
    logits1 = torch.randn(B * T, 1, H, W)
    _, feats = _inputs()
    out = cpr(logits1, feats, clip)
    assert torch.equal(out['labels'], (logits1[:, 0] > 0).long())


def test_oracle_masks_are_not_read():
    logits, feats = _inputs()
    torch.manual_seed(0)
    cpr = _cpr(memory_resolution=None)
    cpr.eval()
    a = cpr(logits, feats, _clip())
    b = cpr(logits, feats, _clip(oracle=torch.ones(B, T, H, W, dtype=torch.long)))
    assert torch.equal(a['labels'], b['labels'])
    assert torch.equal(a['confidence'], b['confidence'])


def test_clip_affine_matches_cv2_and_memory_follows_augmentation():
    m = clip_affine(dict(aug_angle=12.0, aug_scale=1.1), 20, 30)
    ref = cv2.getRotationMatrix2D((14.5, 9.5), 12.0, 1.1)
    assert np.allclose(m[:2], ref)
    assert clip_affine({}, 8, 8) is None
    flip = clip_affine(dict(flip=True), 8, 8)
    assert np.allclose(flip @ np.array([0, 3, 1.0]), [7, 3, 1])
    # warp_maps(x, M): out(x) = maps(M x)
    img = torch.arange(16.0).reshape(1, 4, 4)
    out, inside = warp_maps(img, clip_affine(dict(flip=True), 4, 4))
    assert torch.allclose(out, img.flip(-1), atol=1e-5) and inside.all()

    # a prediction stored from a flipped clip is read back flipped into an unflipped clip
    cpr = _cpr()
    cpr.train()
    probs = torch.rand(B * T, K, H, W)
    probs = probs / probs.sum(1, keepdim=True)
    cpr.write_memory(_clip(meta=dict(flip=True)), probs)
    back, valid = cpr.read_memory(_clip(meta=dict(flip=True)), (H, W), torch.float32)
    unl = ~_clip().labelled_flat
    assert valid[unl].all() and not valid[~unl].any()
    assert torch.allclose(back[unl], probs[unl], atol=2.5e-3)
    plain, _ = cpr.read_memory(_clip(), (H, W), torch.float32)
    assert torch.allclose(plain[unl], probs[unl].flip(-1), atol=2.5e-3)
    # rotated clips: pixels that left the field of view are not used
    cpr.memory.clear()
    cpr.write_memory(_clip(meta=dict(aug_angle=30.0)), probs)
    _, valid = cpr.read_memory(_clip(), (H, W), torch.float32)
    assert valid[unl].any() and not valid[unl].all()


@pytest.mark.parametrize('res', [8])
def test_memory_is_compact(res):
    cpr = _cpr(memory_resolution=res)
    cpr.train()
    cpr.write_memory(_clip(), torch.full((B * T, K, H, W), 0.5))
    stored = next(iter(cpr.memory.values()))
    assert stored.dtype == torch.uint8 and stored.shape == (K - 1, res, res)
    assert stored.device.type == 'cpu'


def _set_reliability(cpr, model, cpr_r, comb=0.5):
    """Running estimates as if one measurement gave these Dice values."""
    m = cpr.reliability_momentum
    cpr.reliability_sums.copy_(torch.tensor([model, cpr_r, comb]) * (1 - m))
    cpr.reliability_steps.fill_(1)


def test_dice_and_log_odds_weight():
    truth = torch.tensor([[1, 1, 0, IGN], [0, 1, 0, 1]])
    pred = torch.tensor([[1, 0, 1, 1], [0, 1, 0, 0]])
    # TP = 2 (ignored pixel left out), |pred| = 3, |truth| = 4
    assert CPRPseudoLabeler.dice(pred, truth, 2).item() == pytest.approx(4 / 7)
    assert CPRPseudoLabeler.dice(torch.zeros(2, 2), torch.zeros(2, 2), 2).item() == 1.0
    w = CPRPseudoLabeler.log_odds_weight(torch.tensor([0.9, 0.5, 0.3, 1.0]))
    assert torch.allclose(w, torch.tensor([math.log(9), 0.0, 0.0, math.log(999)]), atol=1e-4)


def test_reliability_fusion_matches_hand_computation():
    cpr = _cpr(memory_resolution=None)  # fusion='reliability' is the default
    assert cpr.fusion == 'reliability'
    clip = _clip()
    logits, feats = _inputs()
    cpr.eval()
    with torch.no_grad():
        cpr_logits, _, _ = cpr.reforge(feats[0], clip)
    p_model = logits.softmax(1)
    p_cpr = F.interpolate(cpr_logits, size=(H, W), mode='bilinear').softmax(1)
    # nothing measured yet (reliability 0.5 = chance): the plain average
    assert torch.allclose(cpr.reliability, torch.full((3, ), 0.5))
    out = cpr(logits, feats, clip)
    assert torch.allclose(out['confidence'], ((p_model + p_cpr) / 2).max(1).values, atol=1e-5)
    # model Dice 0.9, CPR 0.7: weights log(0.9 / 0.1) and log(0.7 / 0.3)
    _set_reliability(cpr, 0.9, 0.7)
    assert torch.allclose(cpr.reliability[:2], torch.tensor([0.9, 0.7]))
    wm, wc = math.log(9.0), math.log(7.0 / 3.0)
    expected = (wm * p_model + wc * p_cpr) / (wm + wc)
    out = cpr(logits, feats, clip)
    assert torch.allclose(out['confidence'], expected.max(1).values, atol=1e-5)
    assert torch.equal(out['labels'], expected.argmax(1))
    # prior weights multiply the reliability weights
    cpr.cpr_weight = 2.0
    expected = (wm * p_model + 2 * wc * p_cpr) / (wm + 2 * wc)
    out = cpr(logits, feats, clip)
    assert torch.allclose(out['confidence'], expected.max(1).values, atol=1e-5)
    cpr.cpr_weight = 1.0
    # a source no better than chance gets no weight: the model's prediction alone
    _set_reliability(cpr, 0.9, 0.4)
    out = cpr(logits, feats, clip)
    assert torch.equal(out['labels'], logits.argmax(1))
    assert torch.allclose(out['confidence'], p_model.max(1).values, atol=1e-6)


def test_running_reliability_is_a_bias_corrected_average():
    cpr = _cpr(memory_resolution=None, reliability_momentum=0.5)
    truth = (torch.rand(2, H, W, generator=torch.Generator().manual_seed(0)) > 0.5).long()
    onehot = F.one_hot(truth, 2).permute(0, 3, 1, 2).float()
    p_model = 0.1 + 0.8 * onehot  # right everywhere: Dice 1
    p_bg = torch.zeros_like(onehot)
    p_bg[:, 0] = 0.8
    p_bg[:, 1] = 0.2  # background everywhere: Dice 0
    cpr.update_reliability(p_model, p_bg, truth)
    # first step: the measurement itself; the combination (plain mean before any estimate,
    # fg probability (0.9 + 0.2) / 2 on foreground pixels) is right everywhere
    assert torch.allclose(cpr.reliability, torch.tensor([1.0, 0.0, 1.0]), atol=1e-6)
    cpr.update_reliability(p_bg, p_model, truth)
    # second step: (m (1 - m) s1 + (1 - m) s2) / (1 - m^2) with m = 0.5
    assert torch.allclose(cpr.reliability[:2], torch.tensor([1 / 3, 2 / 3]), atol=1e-6)
    # the forward pass of a training step measures on the labelled frames
    cpr2 = _cpr(memory_resolution=None)
    cpr2.train()
    logits, feats = _inputs()
    clip = _clip()
    cpr2(logits, feats, clip)
    assert int(cpr2.reliability_steps) == 1
    lab = clip.labelled_flat
    gt = clip.fold(clip.gt_masks)[lab]
    assert cpr2.reliability[0].item() == pytest.approx(
        CPRPseudoLabeler.dice(logits[lab].argmax(1), gt, 2).item(), abs=1e-6)
    cpr2.eval()
    cpr2(logits, feats, clip)
    assert int(cpr2.reliability_steps) == 1  # evaluation measures nothing


def test_memory_weight_is_the_reliability_at_writing_time():
    cpr = _cpr()
    clip = _clip()
    logits, feats = _inputs()
    stored = torch.rand(B * T, K, H, W, generator=torch.Generator().manual_seed(5))
    stored = stored / stored.sum(1, keepdim=True)
    cpr.write_memory(clip, stored, reliability=0.8)
    assert set(cpr.memory_reliability.values()) == {0.8}
    cpr.eval()
    _set_reliability(cpr, 0.9, 0.2)  # CPR below chance: weight 0
    out = cpr(logits, feats, clip)
    prev, valid = cpr.read_memory(clip, (H, W), torch.float32)
    wm, wp = math.log(9.0), math.log(4.0)
    unl = ~clip.labelled_flat
    assert valid[unl].all()
    expected = (wm * logits.softmax(1) + wp * prev) / (wm + wp)
    assert torch.allclose(out['confidence'][unl], expected.max(1).values[unl], atol=1e-5)
    # labelled frames have no stored map: the model alone
    lab = clip.labelled_flat
    assert torch.equal(out['labels'][lab], logits[lab].argmax(1))
    # a training call stores its combination with the current combined reliability
    cpr.train()
    _set_reliability(cpr, 0.9, 0.2, comb=0.85)
    cpr(logits, feats, clip)
    assert int(cpr.reliability_steps) == 2  # measured before writing
    assert all(v == pytest.approx(cpr.reliability[2].item())
               for v in cpr.memory_reliability.values())


def test_decoder_features_and_fallback_to_the_neck():
    cpr = _cpr(decoder_channels=6, memory_resolution=None, fusion='mean')
    cpr.eval()
    clip = _clip()
    logits, feats = _inputs()
    dec = torch.randn(B * T, 6, 8, 8, generator=torch.Generator().manual_seed(1))
    clip.extras['decoder_features'] = dec
    chosen, source = cpr.select_features(feats, clip)
    assert source == 'decoder' and chosen is dec
    with torch.no_grad():
        cpr_logits, _, attn = cpr.reforge(dec, clip, 'decoder')
    assert cpr_logits.shape == (B * T, K, 8, 8) and attn.shape == (B * T, D, D)
    assert torch.allclose(attn.sum(-1), torch.ones(B * T, D), atol=1e-5)
    p_cpr = F.interpolate(cpr_logits, size=(H, W), mode='bilinear').softmax(1)
    out = cpr(logits, feats, clip)
    expected = (logits.softmax(1) + p_cpr) / 2
    assert torch.allclose(out['confidence'], expected.max(1).values, atol=1e-5)
    # training: every parameter is in the graph of loss_cpr (DDP), the unused neck
    # projections with a zero gradient
    cpr.train()
    cpr(logits, feats, clip)['losses']['loss_cpr'].backward()
    grads = {n: p.grad for n, p in cpr.named_parameters()}
    assert all(g is not None for g in grads.values())
    assert grads['decoder_q_proj.weight'].abs().sum() > 0
    assert grads['q_proj.weight'].abs().sum() == 0
    # a head without decoder features (or with another width): the neck level
    for extras in ({}, {'decoder_features': torch.randn(B * T, 5, 8, 8)}):
        clip2 = _clip()
        clip2.extras.update(extras)
        chosen, source = cpr.select_features(feats, clip2)
        assert source == 'neck' and chosen is feats[-1]
    assert cpr._warned_fallback
    # without decoder_channels the decoder features are not read
    plain = _cpr(memory_resolution=None)
    assert plain.select_features(feats, clip)[1] == 'neck'
    assert not any(n.startswith('decoder_') for n, _ in plain.named_parameters())


def test_invalid_arguments():
    with pytest.raises(ValueError):
        _cpr(fusion='max')
    with pytest.raises(ValueError):
        _cpr(reliability_momentum=1.0)


# ------------------------------------------------------------------ the paper's y^U
def test_faithful_pseudo_labels_are_cprs_semantic_alignment():
    """fusion='cpr' (default): y^U = CPR's reforged prediction; the model's own prediction
    only for frames without a labelled reference; no memory."""
    cpr = MODELS.build(dict(type='CPRPseudoLabeler', in_channels=C, num_classes=K,
                            channels=D))
    assert cpr.fusion == 'cpr' and cpr.memory_resolution == 0
    cpr.eval()
    logits, feats = _inputs()
    clip = _clip()
    with torch.no_grad():
        out = cpr(logits, feats, clip)
        reforged, has_ref, _ = cpr.reforge(feats[0], clip)
        p = F.interpolate(reforged, size=(H, W), mode='bilinear').softmax(dim=1)
    assert has_ref.all()
    conf, labels = p.max(dim=1)
    assert torch.equal(out['labels'], labels)
    assert torch.allclose(out['confidence'], conf, atol=1e-6)
    assert not cpr.memory
    # a clip without labelled frames: the model's own prediction
    with torch.no_grad():
        none = cpr(logits, feats, _clip(labelled_frames=()))
    assert torch.equal(none['labels'], logits.argmax(dim=1))


def test_cpr_loss_can_be_eq9_bce_dice():
    from echoseg.models.losses.bce_dice_loss import BCEDiceLoss
    cpr = MODELS.build(dict(type='CPRPseudoLabeler', in_channels=C, num_classes=K,
                            channels=D, loss_decode=dict(type='BCEDiceLoss')))
    cpr.eval()
    logits, feats = _inputs()
    clip = _clip()
    out = cpr(logits, feats, clip)
    reforged, has_ref, _ = cpr.reforge(feats[0], clip)
    full = F.interpolate(reforged, size=(H, W), mode='bilinear')
    lab = clip.labelled_flat
    expected = BCEDiceLoss()(full[lab], clip.fold(clip.gt_masks)[lab])
    assert torch.allclose(out['losses']['loss_cpr'], expected, atol=1e-6)


def test_semantic_alignment_is_not_saturated_at_initialisation():
    torch.manual_seed(0)
    cpr = MODELS.build(dict(type='CPRPseudoLabeler', in_channels=C, num_classes=K,
                            channels=64))
    cpr.eval()
    x = torch.randn(8, 64, 8, 8).relu()
    with torch.no_grad():
        p = cpr.semantic_align(x).softmax(dim=1)
    assert (p.max(dim=1).values < 0.99).float().mean() > 0.9


def test_memory_round_trips_through_a_weights_only_state_dict():
    import io
    cpr = _cpr()
    cpr.train()
    probs = torch.rand(B * T, K, H, W)
    cpr.write_memory(_clip(meta=dict(flip=True)), probs / probs.sum(1, keepdim=True), 0.7)
    buffer = io.BytesIO()
    torch.save(cpr.state_dict(), buffer)
    buffer.seek(0)
    fresh = _cpr()
    state = torch.load(buffer, weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    fresh.load_state_dict(state)  # strict: the memory keys are expected
    assert set(fresh.memory) == set(cpr.memory) and len(cpr.memory) == B * (T - 2)
    assert all(torch.equal(fresh.memory[k], cpr.memory[k]) for k in cpr.memory)
    assert fresh.memory_reliability == cpr.memory_reliability


def test_mixed_frames_are_not_stored():
    cpr = _cpr()
    cpr.train()
    clip = _clip(meta=dict(mixed_frames=[False, True, False, False]))
    cpr.write_memory(clip, torch.full((B * T, K, H, W), 0.5))
    assert set(cpr.memory) == {(f'vid{b}', 10 + 3 * 2) for b in range(B)}
