"""EchoVideoSegmentor: folding, the temporal convention, losses on the right frames."""
import pytest
import torch
from mmengine.registry import init_default_scope
from torch import nn

from echoseg.models.clip_mixers import BaseClipMixer
from echoseg.registry import MODELS
from echoseg.structures import IGNORE_INDEX
from echoseg.testing import make_clip_batch, tiny_segmentor_cfg


@pytest.fixture(autouse=True)
def scope():
    init_default_scope('echoseg')


def _build(**kw):
    torch.manual_seed(0)
    return MODELS.build(tiny_segmentor_cfg(**kw))


def _data(model, **kw):
    inputs, samples = make_clip_batch(**kw)
    return model.data_preprocessor(dict(inputs=inputs, data_samples=samples), True)


@MODELS.register_module(force=True)
class _RecordingTemporalNeck(nn.Module):
    temporal = True
    last_clip = None

    def forward(self, feats, clip):
        type(self).last_clip = clip
        # a real temporal op: replace each frame by its clip mean
        return tuple(clip.fold(clip.unfold(f).mean(1, keepdim=True)
                               .expand_as(clip.unfold(f)).contiguous()) for f in feats)


@MODELS.register_module(force=True)
class _SwapEdEsMixer(BaseClipMixer):
    calls = 0

    def forward(self, inputs, clip, predict_fn):
        type(self).calls += 1
        probs = predict_fn(inputs)
        assert probs.shape[:2] == inputs.shape[:2] and not probs.requires_grad
        clip.gt_masks = clip.gt_masks.flip(1)
        clip.labelled = clip.labelled.flip(1)
        return inputs.flip(1), clip


def test_supervised_loss_equals_head_loss_on_labelled_frames_only():
    model = _build()
    model.eval()  # no dropout/BN noise, so the two computations match exactly
    data = _data(model, labelled=(0, 3))
    losses = model.loss(data['inputs'], data['data_samples'])
    inputs = data['inputs']
    feats = model.backbone(inputs.flatten(0, 1))
    logits = model.decode_head(feats)
    lab = torch.stack([s.labelled for s in data['data_samples']]).reshape(-1)
    gts = torch.stack([s.gt_masks for s in data['data_samples']]).flatten(0, 1)[lab]
    ref = model.decode_head.loss_by_feat(logits[lab], model._frame_samples(gts))
    assert torch.allclose(losses['decode.loss_ce'], ref['loss_ce'])
    # masks written into unlabelled frames are never read
    for s in data['data_samples']:
        s.gt_masks[1:3] = 1
    again = model.loss(inputs, data['data_samples'])
    assert torch.allclose(again['decode.loss_ce'], losses['decode.loss_ce'])


def test_predict_every_frame_at_original_resolution():
    model = _build()
    model.eval()
    data = _data(model, size=(32, 32))
    for s in data['data_samples']:
        s.set_metainfo(dict(ori_shape=(48, 40)))
    out = model.predict(data['inputs'], data['data_samples'])
    assert len(out) == 2
    assert out[0].pred_masks.shape == (4, 48, 40)
    assert out[0].seg_logits.shape == (4, 2, 48, 40)
    assert torch.allclose(out[0].seg_logits.sum(1), torch.ones(4, 48, 40), atol=1e-5)
    assert torch.equal(out[0].pred_masks, out[0].seg_logits.argmax(1))


def test_temporal_neck_gets_clip_context_and_stock_head_still_works():
    model = _build(neck=dict(type='_RecordingTemporalNeck'))
    data = _data(model, batch_size=2, num_frames=5, labelled=(0, 4))
    losses = model.loss(data['inputs'], data['data_samples'])
    clip = _RecordingTemporalNeck.last_clip
    assert (clip.batch_size, clip.num_frames) == (2, 5)
    assert clip.labelled.tolist() == [[True, False, False, False, True]] * 2
    assert losses['decode.loss_ce'].requires_grad


@pytest.mark.parametrize('neck,head', [
    (dict(type='FPN', in_channels=[8, 16, 32, 64], out_channels=16, num_outs=4),
     dict(type='FCNHead', in_channels=16, in_index=0, channels=16, num_convs=1,
          num_classes=2)),
    (None, dict(type='UPerHead', in_channels=[8, 16, 32, 64], in_index=[0, 1, 2, 3],
                pool_scales=(1, 2), channels=16, num_classes=2)),
])
def test_stock_mmseg_neck_and_head_train_by_config(neck, head):
    model = _build(neck=neck, decode_head=head) if neck else _build(decode_head=head)
    data = _data(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loss = sum(v for k, v in model.loss(data['inputs'], data['data_samples']).items()
               if 'loss' in k)
    loss.backward()
    grads = [p.grad for p in model.backbone.parameters() if p.grad is not None]
    assert grads and any(g.abs().sum() > 0 for g in grads)
    opt.step()


def test_unsupervised_loss_scales_with_weight_and_respects_threshold():
    model = _build(pseudo_labeler=dict(type='SelfTrainingPseudoLabeler'),
                   train_cfg=dict(unsup_weight=1.0, unsup_threshold=0.0))
    model.eval()
    data = _data(model, with_oracle=True)
    l1 = model.loss(data['inputs'], data['data_samples'])
    assert l1['unsup.keep_ratio'] == 1.0
    model.unsup_weight = 2.0
    l2 = model.loss(data['inputs'], data['data_samples'])
    assert torch.allclose(l2['unsup.loss_ce'], 2 * l1['unsup.loss_ce'])
    # pseudo-label quality against the hidden masks is logged, not summed
    assert 0.0 <= float(l1['pseudo_dice']) <= 1.0
    model.unsup_threshold = 1.01  # nothing is confident enough
    l3 = model.loss(data['inputs'], data['data_samples'])
    assert l3['unsup.keep_ratio'] == 0.0 and 'unsup.loss_ce' not in l3
    assert float(l3['unsup.loss_none']) == 0.0


def test_clip_mixer_is_called_and_targets_follow_it():
    model = _build(clip_mixer=dict(type='_SwapEdEsMixer'))
    data = _data(model, labelled=(0, ))
    before = _SwapEdEsMixer.calls
    losses = model.loss(data['inputs'], data['data_samples'])
    assert _SwapEdEsMixer.calls == before + 1
    assert torch.isfinite(losses['decode.loss_ce'])


def test_unknown_train_cfg_key_is_rejected():
    with pytest.raises(KeyError, match='unsup_wieght'):
        _build(train_cfg=dict(unsup_wieght=1.0))


def test_labelled_mask_defaults_and_ignore_value():
    inputs, samples = make_clip_batch(labelled=None)
    assert (samples[0].gt_masks == IGNORE_INDEX).all()
    model = _build()
    data = model.data_preprocessor(dict(inputs=inputs, data_samples=samples), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert float(losses['decode.loss_sup_none']) == 0.0


def test_a_mixer_can_ask_for_eval_mode_predictions():
    model = _build(clip_mixer=dict(type='RACMixer', intra_prob=1.0, inter_prob=0.0,
                                   extra_sample=True, region_from='prediction',
                                   predict_mode='eval'))
    model.train()
    seen = []
    original = model.predict_probabilities

    def recording(inputs, memory=None):
        seen.append([m.training for m in model.modules()])
        return original(inputs, memory)

    model.predict_probabilities = recording
    data = _data(model, labelled=(0, 3))
    losses = model.loss(data['inputs'], data['data_samples'])
    assert len(seen) == 1 and not any(seen[0])  # every module in eval mode
    assert all(m.training for m in model.modules())  # restored
    assert torch.isfinite(losses['decode.loss_ce'])
