"""KSSHead: batch-independent inference, temporal context, deep supervision (eqs 1-4, 6)."""
import pytest
import torch
from mmengine.registry import init_default_scope

from echoseg.models.necks.mrp_neck import MRPNeck
from echoseg.models.utils import ClipContext
from echoseg.registry import MODELS
from echoseg.testing import make_clip_batch

LOSSES = [dict(type='BCEDiceLoss', bce_weight=0.0, dice_weight=1.0, loss_name='loss_dice'),
          dict(type='BoundaryLoss')]


@pytest.fixture(autouse=True)
def scope():
    init_default_scope('echoseg')


def _head(**kw):
    cfg = dict(type='KSSHead', in_channels=12, in_index=0, channels=16, num_heads=2,
               num_stages=3, num_frames=4, num_classes=2, out_channels=1, threshold=0.5,
               loss_decode=LOSSES)
    cfg.update(kw)
    torch.manual_seed(0)
    head = MODELS.build(cfg)
    head.init_weights()
    return head


def _clip(b, t, **kw):
    return ClipContext(batch_size=b, num_frames=t, labelled=torch.zeros(b, t), **kw)


def _clips(b, t=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(b, t, 12, 5, 5, generator=g)


@pytest.mark.parametrize('mode', ['batch_in_training', 'memory', 'none'])
def test_eval_prediction_of_a_clip_does_not_depend_on_its_batch(mode):
    head = _head(cross_video=mode)
    a, others = _clips(1, seed=0), _clips(2, seed=1)
    head.eval()
    with torch.no_grad():
        alone = head((a.flatten(0, 1), ), _clip(1, 4))
        mixed = head((torch.cat([others[:1], a, others[1:]]).flatten(0, 1), ), _clip(3, 4))
    torch.testing.assert_close(mixed.view(3, 4, 1, 5, 5)[1], alone.view(4, 1, 5, 5))
    if mode == 'batch_in_training':
        # in training the kernels do attend across the clips of the batch (the paper)
        head.train()
        with torch.no_grad():
            alone = head((a.flatten(0, 1), ), _clip(1, 4))
            mixed = head((torch.cat([others[:1], a, others[1:]]).flatten(0, 1), ),
                         _clip(3, 4))
        diff = (mixed.view(3, 4, 1, 5, 5)[1] - alone.view(4, 1, 5, 5)).abs().max()
        assert diff > 1e-4


def test_frames_of_a_clip_share_context_through_the_kernels():
    x = _clips(1)
    changed = x.clone()
    changed[0, 2] += 3.0  # frame 2 only
    for stages, expect_change in ((0, False), (2, True)):
        head = _head(num_stages=stages).eval()
        with torch.no_grad():
            a = head((x.flatten(0, 1), ), _clip(1, 4)).view(4, -1)
            b = head((changed.flatten(0, 1), ), _clip(1, 4)).view(4, -1)
        moved = (a[0] - b[0]).abs().max() > 1e-5
        assert bool(moved) == expect_change, stages  # P^0 is per frame; KSS is not
        assert (a[2] - b[2]).abs().max() > 1e-5


def test_clips_of_another_length_use_the_interpolated_position_embedding():
    head = _head(num_frames=4).eval()
    pos = head._temporal_pos(4)
    assert pos is head.temporal_pos
    pos7 = head._temporal_pos(7)
    torch.testing.assert_close(pos7[0], head.temporal_pos[0])
    torch.testing.assert_close(pos7[-1], head.temporal_pos[-1])
    # 7 points over the 4 learned ones (ED .. ES): point i sits at i / 2
    torch.testing.assert_close(pos7[2], head.temporal_pos[1])
    torch.testing.assert_close(pos7[3], (head.temporal_pos[1] + head.temporal_pos[2]) / 2)
    with torch.no_grad():
        out = head((_clips(1, t=7).flatten(0, 1), ), _clip(1, 7))
    assert out.shape == (7, 1, 5, 5)


def test_deep_supervision_puts_every_loss_on_every_stage():
    head = _head(num_stages=3).train()
    neck = MRPNeck(in_channels=[12], scales=(4, ))
    inputs, samples = make_clip_batch(batch_size=2, num_frames=4, size=(20, 20))
    labelled = torch.stack([s.labelled for s in samples])
    gt = torch.stack([s.gt_masks for s in samples])
    feats = (_clips(2).flatten(0, 1), )
    clip = ClipContext(batch_size=2, num_frames=4, labelled=labelled, gt_masks=gt,
                       input_shape=(20, 20))
    neck(feats, clip=clip)
    from echoseg.models.segmentors.echo_video_segmentor import EchoVideoSegmentor
    lab = clip.labelled_flat
    frame_samples = EchoVideoSegmentor._frame_samples(clip.fold(gt)[lab])
    losses, logits = head.loss_clip(feats, clip, frame_samples)
    assert logits.shape == (8, 1, 20, 20)
    assert sorted(losses) == sorted(f's{i}.{n}' for i in range(4)
                                    for n in ('loss_dice', 'loss_boundary'))
    # independently: each stage P^i through the same upsampler, each loss on its own
    masks, _ = head.forward_stages(feats, clip)
    up = clip.extras['logit_upsampler']
    label = clip.fold(gt)[lab]
    for i, m in enumerate(masks):
        stage = up(m)[lab]
        for loss in head.loss_decode:
            ref = loss(stage, label, ignore_index=255)
            torch.testing.assert_close(losses[f's{i}.{loss.loss_name}'], ref,
                                       rtol=1e-4, atol=1e-5)
    # the loss of stage 0 alone reaches the predictor but not the refinement stages
    head.zero_grad()
    losses['s0.loss_dice'].backward()
    assert head.conv_seg.weight.grad.abs().sum() > 0
    assert all(p.grad is None or float(p.grad.abs().sum()) == 0
               for p in head.stages.parameters())
    # the features F_r are left for a pseudo-labeler
    assert clip.extras['decoder_features'].shape == (8, 16, 5, 5)


def test_no_labelled_frame_gives_a_zero_loss_with_a_graph():
    head = _head().train()
    feats = (_clips(1).flatten(0, 1), )
    losses, logits = head.loss_clip(feats, _clip(1, 4, input_shape=(5, 5)), [])
    assert list(losses) == ['loss_none'] and float(losses['loss_none']) == 0.0
    assert losses['loss_none'].requires_grad


def test_bad_configs_are_clear_errors():
    with pytest.raises(ValueError, match='cross_video'):
        _head(cross_video='everywhere')
    for key in ('grouping', 'hybrid', 'ffn_act', 'temporal_pos', 'init_mode'):
        with pytest.raises(ValueError, match=key):
            _head(**{key: 'nonsense'})
    with pytest.raises(ValueError, match='divisible'):
        _head(channels=15, num_heads=2)
    with pytest.raises(ValueError, match='num_stages'):
        _head(num_stages=-1)


# ---------------------------------------------------------------- the public file's switches
AUTHORS = dict(grouping='sum', hybrid='public', ffn_ratio=4.0, ffn_act='relu',
               attn_dropout=0.1, temporal_pos='once', cross_video='batch', init_mode='public')


@pytest.mark.parametrize('out_channels, num_classes', [(1, 2), (3, 3)])
def test_authors_switches_keep_the_shapes(out_channels, num_classes):
    head = _head(num_heads=1, out_channels=out_channels, num_classes=num_classes,
                 threshold=0.5 if out_channels == 1 else None, **AUTHORS).eval()
    with torch.no_grad():
        masks, feats = head.forward_stages((_clips(2).flatten(0, 1), ), _clip(2, 4))
        out = head((_clips(2).flatten(0, 1), ), _clip(2, 4))
    assert len(masks) == 4 and all(m.shape == (8, out_channels, 5, 5) for m in masks)
    assert out.shape == (8, out_channels, 5, 5) and feats.shape == (8, 16, 5, 5)
    stage = head.stages[0]
    assert stage.ffn.mlp[0].out_features == 64 and isinstance(stage.ffn.mlp[1], torch.nn.ReLU)
    assert stage.temporal.attn.dropout == 0.1


def _recorded_stage_calls(head, x, clip):
    calls = []
    for i, stage in enumerate(head.stages):
        def record(grouped, kernels, query_pos=None, token_pos=None, _orig=stage.forward,
                   _i=i):
            calls.append(dict(stage=_i, grouped=grouped, query_pos=query_pos,
                              token_pos=token_pos))
            return _orig(grouped, kernels, query_pos=query_pos, token_pos=token_pos)
        stage.forward = record
    with torch.no_grad():
        head((x, ), clip)
    return calls


def test_grouping_sum_is_the_mean_times_the_area():
    x = _clips(1).flatten(0, 1)
    mean = _recorded_stage_calls(_head(num_stages=1).eval(), x, _clip(1, 4))
    total = _recorded_stage_calls(_head(num_stages=1, grouping='sum').eval(), x, _clip(1, 4))
    torch.testing.assert_close(total[0]['grouped'], mean[0]['grouped'] * 25)


def test_position_embedding_once_goes_to_the_first_stages_tokens_only():
    head = _head(temporal_pos='once').eval()
    calls = _recorded_stage_calls(head, _clips(1).flatten(0, 1), _clip(1, 4))
    assert calls[0]['token_pos'] is head.temporal_pos and calls[0]['query_pos'] is None
    assert all(c['token_pos'] is None and c['query_pos'] is None for c in calls[1:])
    every = _head().eval()
    calls = _recorded_stage_calls(every, _clips(1).flatten(0, 1), _clip(1, 4))
    assert all(c['query_pos'] is every.temporal_pos and c['token_pos'] is None
               for c in calls)


def test_public_hybrid_attention_against_its_formula():
    """One token per class: each attention reads a single key, so MHA(q, m, m) is
    out_proj(v_proj(m)) whatever q is; the public formula follows in closed form."""
    from echoseg.models.decode_heads.kss_head import KernelRefinementStage
    torch.manual_seed(0)
    stage = KernelRefinementStage(8, 2, 16, 0.0, 'none', 4, hybrid='public').eval()
    for p in stage.parameters():
        torch.nn.init.normal_(p, std=0.3)
    g, k = torch.randn(6, 3, 8), torch.randn(6, 3, 8)

    def value_path(attn, m):
        w_v, b_v = attn.in_proj_weight[16:], attn.in_proj_bias[16:]
        return attn.out_proj(m @ w_v.t() + b_v)

    to_k, to_g = stage.kernel_to_feat, stage.feat_to_kernel
    f = k + value_path(to_k.attn, g)
    kk = f + value_path(to_g.attn, k)
    fc = stage.hybrid_fc
    expected = torch.relu(fc[1](fc[0](to_k.norm(f) + to_g.norm(kk))))
    with torch.no_grad():
        torch.testing.assert_close(stage._hybrid(g, k), expected)


def test_cross_video_batch_attends_across_clips_in_eval_mode_too():
    head = _head(cross_video='batch').eval()
    a, others = _clips(1, seed=0), _clips(2, seed=1)
    with torch.no_grad():
        alone = head((a.flatten(0, 1), ), _clip(1, 4))
        mixed = head((torch.cat([others[:1], a, others[1:]]).flatten(0, 1), ), _clip(3, 4))
    assert (mixed.view(3, 4, 1, 5, 5)[1] - alone.view(4, 1, 5, 5)).abs().max() > 1e-4


def test_public_initialisation():
    head = _head(channels=32, num_heads=1, init_mode='public', ffn_ratio=4.0)
    lin = head.stages[0].ffn.mlp[0]  # fan_in 32: Kaiming normal with the ReLU gain
    assert abs(float(lin.weight.std()) - (2 / 32) ** 0.5) < 0.03
    assert float(lin.bias.abs().max()) == 0.0
    assert 0.7 < float(head.temporal_pos.std()) < 1.3  # torch.randn, not 0.02
    ours = _head(channels=32, num_heads=1, ffn_ratio=4.0)
    assert abs(float(ours.stages[0].ffn.mlp[0].weight.std()) - (1 / 32) ** 0.5) < 0.03
