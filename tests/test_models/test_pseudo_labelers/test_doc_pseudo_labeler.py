"""DOCPseudoLabeler: warm-up storage, the offset check against the running threshold
(reject over, accept under), mixed frames skipped, InfoNCE loss, memory in the state dict."""
import io

import pytest
import torch

from echoseg.models.pseudo_labelers import DOCPseudoLabeler
from echoseg.models.pseudo_labelers.doc_pseudo_labeler import offset_deviation
from echoseg.models.utils import ClipContext
from echoseg.registry import MODELS
from echoseg.structures import IGNORE_INDEX, EchoDataSample

B, T, C, H, W = 2, 3, 8, 16, 16


def _doc(**kw):
    cfg = dict(type='DOCPseudoLabeler', in_channels=C, embed_dims=8, memory_resolution=H)
    cfg.update(kw)
    torch.manual_seed(0)
    doc = MODELS.build(cfg)
    doc.train()
    return doc


def _clip(mixed=None):
    labelled = torch.zeros(B, T, dtype=torch.bool)
    labelled[:, 0] = True
    gt = torch.full((B, T, H, W), IGNORE_INDEX, dtype=torch.long)
    gt[:, 0] = 0
    gt[:, 0, 4:12, 4:12] = 1
    samples = []
    for b in range(B):
        meta = dict(video_id=f'vid{b}', frame_indices=[5 + t for t in range(T)])
        if mixed is not None:
            meta['mixed_frames'] = mixed
        samples.append(EchoDataSample(metainfo=meta))
    return ClipContext(B, T, labelled, gt_masks=gt, input_shape=(H, W), data_samples=samples)


def _logits(box):
    """Two-class logits whose foreground is the box (y0, y1, x0, x1) in every frame."""
    y0, y1, x0, x1 = box
    fg = torch.zeros(B * T, H, W)
    fg[:, y0:y1, x0:x1] = 1
    return torch.stack([-4 * (2 * fg - 1), 4 * (2 * fg - 1)], dim=1)


def _feats():
    return (torch.randn(B * T, C, 4, 4, generator=torch.Generator().manual_seed(1)), )


def test_deviation_is_one_minus_mean_of_dice_and_iou():
    a = torch.zeros(4, 4, dtype=torch.bool)
    b = torch.zeros(4, 4, dtype=torch.bool)
    a[:2, :2] = True  # 4 pixels
    b[:2, :] = True  # 8 pixels, 4 shared
    dice, iou = 2 * 4 / 12, 4 / 8
    assert offset_deviation(a, b).item() == pytest.approx(1 - (dice + iou) / 2, abs=1e-5)
    assert offset_deviation(a, a).item() == pytest.approx(0.0, abs=1e-6)
    assert offset_deviation(torch.zeros_like(a), torch.zeros_like(a)).item() == \
        pytest.approx(0.0, abs=1e-6)


def test_warmup_stores_every_unlabelled_frame_and_gives_no_pseudo_label():
    doc = _doc()
    doc.epoch = 0
    out = doc(_logits((4, 12, 4, 12)), _feats(), _clip())
    assert set(doc.memory) == {(f'vid{b}', 5 + t) for b in range(B) for t in (1, 2)}
    assert (out['confidence'] == 0).all()  # no pseudo-label in the warm-up epoch
    assert torch.isfinite(out['losses']['loss_doc'])
    assert doc.threshold == 0.0 and int(doc.threshold_steps) == 0


def _stored_box(doc, key):
    return doc.memory[key][0] > 127


def test_offset_check_rejects_over_the_threshold_and_accepts_under():
    doc = _doc(threshold_momentum=0.0)  # tau = the last batch's mean deviation
    doc.epoch = 0
    doc(_logits((4, 12, 4, 12)), _feats(), _clip())  # stored: the 8 x 8 box
    first = _stored_box(doc, ('vid0', 6)).clone()
    doc.epoch = 1
    doc.threshold_sum.fill_(0.3)
    doc.threshold_steps.fill_(1)
    assert doc.threshold == pytest.approx(0.3)
    # a prediction far from the stored one (a disjoint box: deviation 1 > 0.3): rejected
    out = doc(_logits((0, 3, 0, 3)), _feats(), _clip())
    assert torch.equal(_stored_box(doc, ('vid0', 6)), first)  # memory unchanged
    unl = ~_clip().labelled_flat
    expected = torch.zeros(B * T, H, W, dtype=torch.long)
    expected[:, 4:12, 4:12] = 1
    assert torch.equal(out['labels'][unl], expected[unl])  # the stored label is used
    assert out['losses']['doc_accepted'].item() == 0
    assert doc.threshold == pytest.approx(1.0)  # the measured deviation enters tau
    # a prediction close to the stored one (one row fewer: deviation ~0.1 < tau): accepted
    doc.threshold_sum.fill_(0.3)
    close = (4, 11, 4, 12)
    out = doc(_logits(close), _feats(), _clip())
    new = torch.zeros(B * T, H, W, dtype=torch.long)
    new[:, 4:11, 4:12] = 1
    assert torch.equal(out['labels'][unl], new[unl])
    assert torch.equal(_stored_box(doc, ('vid0', 6)), new[1].bool())  # replaced
    assert out['losses']['doc_accepted'].item() == B
    assert 0 < out['losses']['doc_deviation'].item() < 0.3


def test_before_any_measurement_nothing_is_replaced():
    doc = _doc()
    doc.epoch = 0
    doc(_logits((4, 12, 4, 12)), _feats(), _clip())
    doc.epoch = 1
    first = dict(doc.memory)
    doc(_logits((4, 11, 4, 12)), _feats(), _clip())  # tau = 0: even a close one waits
    assert all(torch.equal(first[k], doc.memory[k]) for k in first)
    assert doc.threshold > 0  # now measured


def test_mixed_frames_are_neither_read_nor_stored():
    doc = _doc()
    doc.epoch = 0
    doc(_logits((4, 12, 4, 12)), _feats(), _clip(mixed=[True, True, False]))
    assert set(doc.memory) == {(f'vid{b}', 7) for b in range(B)}


def test_eval_mode_writes_nothing():
    doc = _doc()
    doc.eval()
    doc.epoch = 0
    doc(_logits((4, 12, 4, 12)), _feats(), _clip())
    assert not doc.memory


def test_contrastive_loss_prefers_separated_features_and_trains_them():
    doc = _doc(loss_weight=1.0)
    doc.projection = torch.nn.Identity()  # features compared as they are
    labels = torch.zeros(B * T, H, W, dtype=torch.long)
    labels[:, :, 8:] = 1
    clip = _clip()
    sep = torch.zeros(B * T, C, 4, 4)
    sep[:, 0, :, :2] = 1  # background features along e0
    sep[:, 1, :, 2:] = 1  # foreground along e1
    mixed = torch.randn(B * T, C, 4, 4, generator=torch.Generator().manual_seed(0))
    good = doc.contrastive_loss(sep, labels, clip)
    bad = doc.contrastive_loss(mixed, labels, clip)
    assert good < 0.01 < bad
    feats = mixed.clone().requires_grad_()
    doc.contrastive_loss(feats, labels, clip).backward()
    assert feats.grad.abs().sum() > 0
    # everything ignored: a zero loss that keeps the graph
    empty = torch.full_like(labels, IGNORE_INDEX)
    assert doc.contrastive_loss(mixed, empty, clip).item() == 0.0


def test_memory_and_threshold_round_trip_through_a_weights_only_file():
    doc = _doc()
    doc.epoch = 0
    doc(_logits((4, 12, 4, 12)), _feats(), _clip())
    doc.epoch = 1
    doc(_logits((3, 12, 4, 12)), _feats(), _clip())
    state = doc.state_dict()
    assert all(isinstance(v, torch.Tensor) for v in state.values())  # plain tensors only
    assert state['memory.maps'].shape[0] == len(doc.memory) > 0
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=True)
    fresh = _doc()
    fresh.load_state_dict(loaded)
    assert set(fresh.memory) == set(doc.memory)
    assert all(torch.equal(fresh.memory[k], doc.memory[k]) for k in doc.memory)
    assert fresh.threshold == doc.threshold and fresh.threshold > 0
