"""DOCPseudoLabeler as DOC.py: warm-up storage, the offset check ``dev <= tau`` with tau 0 in
the epoch after the warm-up and then the last batch's mean deviation (hand computations),
rejected clips supervised by their stored history, mixed frames skipped, RAC's copies
labelled as their originals, the contrastive term as the file's loop, memory in the state
dict."""
import math
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
    doc = _doc()  # tau = the last batch's mean deviation
    doc.epoch = 0
    doc(_logits((4, 12, 4, 12)), _feats(), _clip())  # stored: the 8 x 8 box
    first = _stored_box(doc, ('vid0', 6)).clone()
    doc.epoch = 2  # past the zero-threshold epoch
    doc.threshold_sum.fill_(0.3)
    doc.threshold_steps.fill_(1)
    assert doc.threshold == pytest.approx(0.3)
    # a prediction far from the stored one (a disjoint box: deviation 1 > 0.3): rejected
    out = doc(_logits((0, 3, 0, 3)), _feats(), _clip())
    assert torch.equal(_stored_box(doc, ('vid0', 6)), first)  # memory unchanged
    unl = ~_clip().labelled_flat
    expected = torch.zeros(B * T, H, W, dtype=torch.long)
    expected[:, 4:12, 4:12] = 1
    assert torch.equal(out['labels'][unl], expected[unl])  # the stored history supervises
    assert (out['confidence'][unl] > 0.5).all()  # and is kept by the unsupervised loss
    assert out['losses']['doc_accepted'].item() == 0
    assert doc.threshold == pytest.approx(1.0)  # tau = this batch's mean deviation
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


def test_a_deviation_equal_to_the_threshold_is_accepted():
    """``dev <= tau`` (DOC.py), not ``<``: a disjoint box has deviation exactly 1."""
    doc = _doc()
    doc.epoch = 0
    doc(_logits((4, 12, 4, 12)), _feats(), _clip())
    doc.epoch = 2
    doc.threshold_sum.fill_(1.0)
    doc.threshold_steps.fill_(1)
    out = doc(_logits((0, 3, 0, 3)), _feats(), _clip())
    assert out['losses']['doc_accepted'].item() == B
    assert out['losses']['doc_deviation'].item() == pytest.approx(1.0, abs=1e-6)
    assert _stored_box(doc, ('vid0', 6))[:3, :3].all()  # replaced by the new box


def _box_dev(a, b):
    """1 - (Dice + IoU) / 2 of two boxes (y0, y1, x0, x1), by hand."""
    area = lambda r: max(r[1] - r[0], 0) * max(r[3] - r[2], 0)  # noqa: E731
    inter = area((max(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), min(a[3], b[3])))
    total = area(a) + area(b)
    return 1 - (2 * inter / total + inter / (total - inter)) / 2


def test_threshold_is_zero_after_warmup_then_the_last_batch_mean():
    doc = _doc()
    stored = (4, 12, 4, 12)
    doc.epoch = 0
    doc(_logits(stored), _feats(), _clip())
    # epoch 1 (DOC.py's update_threshold(1)): tau = 0, nothing measured into it; only an
    # identical prediction (deviation 0 <= 0) replaces the stored one
    doc.epoch = 1
    first = dict(doc.memory)
    out = doc(_logits((4, 11, 4, 12)), _feats(), _clip())
    assert all(torch.equal(first[k], doc.memory[k]) for k in first)
    assert out['losses']['doc_threshold'].item() == 0.0 and doc.threshold == 0.0
    out = doc(_logits(stored), _feats(), _clip())
    assert out['losses']['doc_accepted'].item() == B
    # epoch 2: clip 0 predicts the stored box, clip 1 a shifted one; tau after the batch =
    # the mean of the two clips' deviations (each the mean over its 2 unlabelled frames)
    doc.epoch = 2
    shifted = (6, 14, 5, 13)
    logits = _logits(stored)
    logits[T:] = _logits(shifted)[T:]
    out = doc(logits, _feats(), _clip())
    assert out['losses']['doc_threshold'].item() == 0.0  # decided with the old tau
    want = (0.0 + _box_dev(stored, shifted)) / 2
    assert doc.threshold == pytest.approx(want, abs=1e-6)
    assert out['losses']['doc_accepted'].item() == 1  # clip 0 (0 <= 0); clip 1 rejected
    # the next batch is decided against that mean, which the next batch then replaces
    out = doc(_logits(shifted), _feats(), _clip())
    dev1 = _box_dev(stored, shifted)
    assert out['losses']['doc_threshold'].item() == pytest.approx(want, abs=1e-6)
    assert out['losses']['doc_accepted'].item() == 0  # both dev1 > dev1 / 2
    assert doc.threshold == pytest.approx(dev1, abs=1e-6)


def test_a_running_mean_is_a_named_option():
    doc = _doc(threshold_momentum=0.5, zero_threshold_epochs=0)
    doc.epoch = 0
    doc(_logits((4, 12, 4, 12)), _feats(), _clip())
    doc.epoch = 1
    doc(_logits((0, 3, 0, 3)), _feats(), _clip())  # deviation 1
    doc(_logits((4, 12, 4, 12)), _feats(), _clip())  # deviation 0
    # bias-corrected: (0.5 * 0.5 * 1 + 0.5 * 0) / (1 - 0.25)
    assert doc.threshold == pytest.approx(0.25 / 0.75, abs=1e-6)


def test_rac_copies_take_their_originals_pseudo_labels():
    doc = _doc()
    doc.epoch = 0
    doc(_logits((4, 12, 4, 12)), _feats(), _clip())
    doc.epoch = 2  # tau 0: the disjoint prediction below is rejected, history supervises
    clip = _clip()
    copy = clip.data_samples[0].clone()
    copy.set_metainfo(dict(mixed_frames=[True] * T, rac_source=0,
                           rac_pasted=[t == 0 for t in range(T)]))
    labelled = torch.cat([clip.labelled, clip.labelled[:1]])
    gt = torch.cat([clip.gt_masks, clip.gt_masks[:1]])
    big = ClipContext(B + 1, T, labelled, gt_masks=gt, input_shape=(H, W),
                      data_samples=clip.data_samples + [copy])
    logits = torch.cat([_logits((0, 3, 0, 3)), _logits((0, 3, 0, 3))[:T]])
    keys = dict(doc.memory)
    out = doc(logits, (torch.randn((B + 1) * T, C, 4, 4), ), big)
    labels = out['labels'].reshape(B + 1, T, H, W)
    assert torch.equal(labels[B, 1:], labels[0, 1:])  # the original's (stored) labels
    assert labels[B, 1:, 4:12, 4:12].all() and not labels[B, 1:, :3, :3].any()
    assert set(doc.memory) == set(keys)  # the copy stores nothing
    assert out['losses']['doc_compared'].item() == B  # and is not compared


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


@pytest.mark.parametrize('contrastive', ['self', 'prototype'])
def test_contrastive_loss_prefers_separated_features_and_trains_them(contrastive):
    doc = _doc(loss_weight=1.0, contrastive=contrastive, embed_dims=None)
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


def test_self_contrast_is_the_files_loop():
    """DOC.py's compute_contrastive_loss, written out per frame and per anchor."""
    doc = _doc(embed_dims=None)
    g = torch.Generator().manual_seed(3)
    feats = torch.randn(B * T, C, 4, 4, generator=g)
    labels = (torch.rand(B * T, 4, 4, generator=g) > 0.6).long()
    labels[1] = 0  # a frame without foreground: skipped
    labels[2, 0, 0] = IGNORE_INDEX  # an ignored pixel: neither anchor nor negative
    z = torch.nn.functional.normalize(feats.double(), dim=1).flatten(2)
    per_frame = []
    for f in range(B * T):
        lab = labels[f].flatten()
        fg, bg = z[f][:, lab == 1].T, z[f][:, lab == 0].T
        if len(fg) == 0 or len(bg) == 0:
            continue
        terms = []
        for a in fg:
            pos = math.exp(float(a @ a) / 0.07)
            neg = sum(math.exp(float(a @ b) / 0.07) for b in bg)
            terms.append(-math.log(pos / (pos + neg + 1e-8)))
        per_frame.append(sum(terms) / len(terms))
    want = sum(per_frame) / len(per_frame)
    got = doc.contrastive_loss(feats, labels, _clip()).item()
    assert got == pytest.approx(want, rel=1e-5)


def test_memory_and_threshold_round_trip_through_a_weights_only_file():
    doc = _doc()
    doc.epoch = 0
    doc(_logits((4, 12, 4, 12)), _feats(), _clip())
    doc.epoch = 2
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
