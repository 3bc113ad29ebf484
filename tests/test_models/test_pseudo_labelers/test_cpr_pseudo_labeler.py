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
    cfg = dict(type='CPRPseudoLabeler', in_channels=C, num_classes=K, channels=D,
               memory_resolution=H)
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
    cpr = _cpr()
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
    off = _cpr(memory_resolution=None)
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
