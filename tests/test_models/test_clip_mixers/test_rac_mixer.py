"""RACMixer: the mixed label is the label of the pixels actually pasted, labels stay
truthful, unmixed clips come back bit-identical, mixed frames are marked; RAC.py's scheme
(extra samples whose unmixed originals stay supervised, labels left unchanged)."""
import torch

from echoseg.models.clip_mixers import RACMixer
from echoseg.models.utils import ClipContext
from echoseg.structures import IGNORE_INDEX, EchoDataSample

B, T, C, H, W = 3, 4, 3, 12, 12


def _disc(cy, cx, r):
    yy, xx = torch.meshgrid(torch.arange(H), torch.arange(W), indexing='ij')
    return (((yy - cy) ** 2 + (xx - cx) ** 2) <= r * r).long()


def _batch(labelled_frames=(0, T - 1)):
    g = torch.Generator().manual_seed(0)
    inputs = torch.randn(B, T, C, H, W, generator=g)
    truth = torch.stack([torch.stack([_disc(4 + b, 5 + t, 2 + (t + b) % 3) for t in range(T)])
                         for b in range(B)])
    labelled = torch.zeros(B, T, dtype=torch.bool)
    labelled[:, list(labelled_frames)] = True
    gt = torch.where(labelled[..., None, None], truth, torch.full_like(truth, IGNORE_INDEX))
    samples = []
    for b in range(B):
        s = EchoDataSample(metainfo=dict(video_id=f'v{b}', frame_indices=list(range(T)),
                                         ed_index=0, es_index=T - 1))
        s.gt_masks, s.labelled = gt[b].clone(), labelled[b].clone()
        samples.append(s)
    clip = ClipContext(B, T, labelled, gt_masks=gt, input_shape=(H, W), data_samples=samples)
    clip.extras['oracle_masks'] = truth
    return inputs, clip, truth


def _predict_fn(truth, calls):
    def predict(x):
        calls.append(x.shape)
        # a 'model' that predicts the true mask shifted by one pixel (not the ground truth)
        fg = torch.roll(truth, 1, dims=-1).float()
        return torch.stack([1 - fg, fg], dim=2)
    return predict


def _check_paste(x_new, y_new, x_src, y_src, x_tgt, y_tgt):
    """Where the image is the source's, the label is the source's; elsewhere the target's."""
    pasted = (x_new == x_src).all(0) & (x_src != x_tgt).any(0)
    kept = (x_new == x_tgt).all(0)
    assert (pasted | kept).all()
    assert torch.equal(y_new[pasted], y_src[pasted])
    assert torch.equal(y_new[kept & ~pasted], y_tgt[kept & ~pasted])
    return pasted


def test_intra_clip_swap_pastes_the_gt_regions_with_their_labels():
    inputs, clip, truth = _batch()
    calls = []
    mixer = RACMixer()
    intra = torch.tensor([True, False, False])
    x, out = mixer.mix(inputs, clip, _predict_fn(truth, calls), intra, torch.zeros(B, dtype=bool))
    assert not calls  # ED and ES are labelled: the ground truth gives the regions
    # ED <- ES with ED's LV pasted; ES <- ED with ES's LV pasted
    for src, tgt in ((0, T - 1), (T - 1, 0)):
        pasted = _check_paste(x[0, src], out.gt_masks[0, src], inputs[0, src], truth[0, src],
                              inputs[0, tgt], truth[0, tgt])
        assert torch.equal(pasted, truth[0, src].bool())  # exactly the source's LV
        assert bool(out.labelled[0, src])  # both parts are ground truth
    assert out.data_samples[0].metainfo['mixed_frames'] == [True, False, False, True]
    assert torch.equal(out.data_samples[0].gt_masks, out.gt_masks[0])
    # hidden masks are mixed alike (for the pseudo-label quality log)
    torch.testing.assert_close(out.extras['oracle_masks'][0], out.gt_masks[0].where(
        out.labelled[0][:, None, None], truth[0]))
    # clips 1 and 2 are bit-identical and keep their sample objects
    assert torch.equal(x[1:], inputs[1:]) and torch.equal(out.gt_masks[1:], clip.gt_masks[1:])
    assert out.data_samples[1] is clip.data_samples[1]
    assert 'mixed_frames' not in clip.data_samples[0].metainfo  # the input is not modified


def test_cross_clip_mix_uses_predictions_for_unlabelled_sources_and_drops_their_labels():
    inputs, clip, truth = _batch()
    calls = []
    predict = _predict_fn(truth, calls)
    mixer = RACMixer()
    inter = torch.tensor([True, False, False])
    x, out = mixer.mix(inputs, clip, predict, torch.zeros(B, dtype=bool), inter)
    assert len(calls) == 1  # middle frames of the partner are unlabelled
    pred = predict(inputs).argmax(2)
    for t in range(T):
        src_label = truth[1, t] if t in (0, T - 1) else pred[1, t]
        tgt_label = truth[0, t]
        pasted = _check_paste(x[0, t], torch.where(out.labelled[0, t], out.gt_masks[0, t],
                                                   out.extras['oracle_masks'][0, t]),
                              inputs[1, t], truth[1, t], inputs[0, t], tgt_label)
        assert torch.equal(pasted, src_label.bool())
        if t in (0, T - 1):  # ground truth on both sides: a real label
            assert bool(out.labelled[0, t])
            assert torch.equal(out.gt_masks[0, t][pasted], truth[1, t][pasted])
        else:
            assert not bool(out.labelled[0, t])
            assert (out.gt_masks[0, t] == IGNORE_INDEX).all()
    assert out.data_samples[0].metainfo['mixed_frames'] == [True] * T
    assert torch.equal(x[1:], inputs[1:])


def test_an_unlabelled_target_makes_the_mixed_frame_unlabelled():
    inputs, clip, truth = _batch(labelled_frames=(0, ))
    mixer = RACMixer()
    x, out = mixer.mix(inputs, clip, _predict_fn(truth, []), torch.tensor([True, False, False]),
                       torch.zeros(B, dtype=bool))
    # ED <- ES (unlabelled) with ED's GT region: part of the label is not ground truth
    assert not bool(out.labelled[0, 0]) and (out.gt_masks[0, 0] == IGNORE_INDEX).all()
    assert not bool(out.labelled[0, T - 1])


def test_nothing_mixed_returns_the_same_objects():
    inputs, clip, truth = _batch()
    mixer = RACMixer(intra_prob=0.0, inter_prob=0.0)
    x, out = mixer(inputs, clip, _predict_fn(truth, []))
    assert x is inputs and out is clip


def test_random_plan_follows_the_probabilities():
    _, clip, _ = _batch()
    torch.manual_seed(0)
    intra, inter = RACMixer(intra_prob=1.0, inter_prob=0.0).plan(clip)
    assert intra.all() and not inter.any()
    single = ClipContext(1, T, torch.ones(1, T, dtype=torch.bool))
    intra, inter = RACMixer(intra_prob=0.0, inter_prob=1.0).plan(single)
    assert not inter.any()  # no partner in a batch of one


def test_extra_sample_appends_the_mixed_clip_and_keeps_the_originals():
    inputs, clip, truth = _batch()
    intra = torch.tensor([True, False, True])
    none = torch.zeros(B, dtype=bool)
    replaced, rep = RACMixer().mix(inputs, clip, _predict_fn(truth, []), intra, none)
    x, out = RACMixer(extra_sample=True).mix(inputs, clip, _predict_fn(truth, []), intra,
                                             none)
    assert out.batch_size == B + 2 and x.shape == (B + 2, T, C, H, W)
    # the batch itself is untouched: its ED and ES stay supervised as they were
    assert torch.equal(x[:B], inputs) and torch.equal(out.gt_masks[:B], clip.gt_masks)
    assert torch.equal(out.labelled[:B], clip.labelled)
    assert all(out.data_samples[i] is clip.data_samples[i] for i in range(B))
    # the extra clips are the replace mode's mixed clips 0 and 2, in order
    for k, i in enumerate((0, 2)):
        assert torch.equal(x[B + k], replaced[i])
        assert torch.equal(out.gt_masks[B + k], rep.gt_masks[i])
        assert torch.equal(out.labelled[B + k], rep.labelled[i])
        assert out.extras['oracle_masks'][B + k].equal(rep.extras['oracle_masks'][i])
        meta = out.data_samples[B + k].metainfo
        assert meta['video_id'] == f'v{i}' and meta['mixed_frames'] == [True] * T
        # the copy names its original and the frames whose pixels changed (ED and ES)
        assert meta['rac_source'] == i
        assert meta['rac_pasted'] == [t in (0, T - 1) for t in range(T)]
        assert 'rac_source' not in out.data_samples[i].metainfo


def test_unchanged_labels_keep_the_clips_labels_as_rac_py():
    inputs, clip, truth = _batch()
    intra = torch.tensor([True, False, True])
    none = torch.zeros(B, dtype=bool)
    mixed_x, mixed = RACMixer(extra_sample=True).mix(inputs, clip, _predict_fn(truth, []),
                                                     intra, none)
    x, out = RACMixer(extra_sample=True, label_mode='unchanged').mix(
        inputs, clip, _predict_fn(truth, []), intra, none)
    assert torch.equal(x, mixed_x)  # the same pixels
    for k, i in enumerate((0, 2)):
        # frame 0 shows ES with ED's region pasted, and keeps ED's label (RAC.py)
        assert torch.equal(out.gt_masks[B + k], clip.gt_masks[i])
        assert torch.equal(out.labelled[B + k], clip.labelled[i])
        assert not torch.equal(mixed.gt_masks[B + k], clip.gt_masks[i])


def test_extra_samples_leave_the_unmixed_ed_and_es_frames_supervised():
    """Through the segmentor: the loss has a gradient on the original clips' ED and ES
    logits (and none on their unlabelled frames), and the batch holds the copies too."""
    from mmengine.registry import init_default_scope

    from echoseg.registry import MODELS
    from echoseg.testing import make_clip_batch, tiny_segmentor_cfg
    init_default_scope('echoseg')
    torch.manual_seed(0)
    model = MODELS.build(tiny_segmentor_cfg(clip_mixer=dict(
        type='RACMixer', intra_prob=1.0, inter_prob=0.0, extra_sample=True,
        region_from='prediction', predict_mode='eval', label_mode='unchanged')))
    inputs, samples = make_clip_batch(batch_size=2, num_frames=4, labelled=(0, 3))
    data = model.data_preprocessor(dict(inputs=inputs, data_samples=samples), True)
    seen = {}

    def keep(module, args, output):
        if output.requires_grad:  # the training pass (not RAC's no-grad prediction)
            output.retain_grad()
            seen['logits'] = output

    model.decode_head.register_forward_hook(keep)
    original = model.extract_feat

    def recording(x, clip=None):
        seen['inputs'], seen['clip'] = x, clip
        return original(x, clip)

    model.extract_feat = recording
    losses = model.loss(data['inputs'], data['data_samples'])
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    x, clip = seen['inputs'], seen['clip']
    assert x.shape[0] == 4 and torch.equal(x[:2], data['inputs'])  # originals unmixed
    assert clip.labelled[:2, [0, 3]].all() and not clip.labelled[:2, 1:3].any()
    grad = seen['logits'].grad.abs().flatten(1).sum(1).reshape(4, 4)
    assert (grad[:2, [0, 3]] > 0).all()  # the unmixed ED and ES carry loss
    assert (grad[:2, 1:3] == 0).all()  # unlabelled frames: no pseudo-labeler, no loss
    assert (grad[2:, [0, 3]] > 0).all()  # the mixed copies' ED and ES too


def test_regions_from_predictions_even_for_labelled_frames():
    inputs, clip, truth = _batch()
    calls = []
    predict = _predict_fn(truth, calls)
    mixer = RACMixer(region_from='prediction')
    x, out = mixer.mix(inputs, clip, predict, torch.tensor([True, False, False]),
                       torch.zeros(B, dtype=bool))
    assert len(calls) == 1  # asked although ED and ES are labelled
    pred = predict(inputs).argmax(2)
    for src, tgt in ((0, T - 1), (T - 1, 0)):
        region = pred[0, src].bool()
        assert torch.equal(x[0, src][:, region], inputs[0, src][:, region])
        assert torch.equal(x[0, src][:, ~region], inputs[0, tgt][:, ~region])
        # labels: the source's ground truth inside the pasted region, the target's outside
        assert torch.equal(out.gt_masks[0, src][region], truth[0, src][region])
        assert torch.equal(out.gt_masks[0, src][~region], truth[0, tgt][~region])


def test_bad_switches_are_clear_errors():
    import pytest
    with pytest.raises(ValueError, match='region_from'):
        RACMixer(region_from='gt')
    with pytest.raises(ValueError, match='predict_mode'):
        RACMixer(predict_mode='test')
    with pytest.raises(ValueError, match='label_mode'):
        RACMixer(label_mode='swapped')
