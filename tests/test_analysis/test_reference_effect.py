"""echoseg.analysis.reference_effect (tools/analysis/reference_effect.py): the pixels the
references change against pass 1 and pass 2 decoded through the head's own default-token
and inference paths, none when pass 2 is given the default tokens, a clear error for a
head without two passes, and the command on a tiny EchoForge checkpoint."""
import os.path as osp

import pytest
import torch

from echoseg.analysis import reference_effect as tool
from echoseg.models.decode_heads.tsf_head import TSFHead  # noqa: F401 (registers it)
from echoseg.models.utils import ClipContext
from echoseg.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
B, T, C = 1, 4, 16


def _head(**kw):
    torch.manual_seed(0)
    head = MODELS.build(dict(type='TSFHead', in_channels=C, channels=16, num_classes=2,
                             num_heads=4, num_queries=4, num_layers=1, dropout_ratio=0.0,
                             **kw))
    return head.eval()


def _inputs(seed=0):
    g = torch.Generator().manual_seed(seed)
    clip = ClipContext(B, T, torch.zeros(B, T, dtype=torch.bool), input_shape=(32, 32))
    return (torch.randn(B * T, C, 8, 8, generator=g), ), clip


def test_changed_pixels_are_pass_two_against_pass_one():
    head = _head()
    inputs, clip = _inputs()
    result = tool.reference_effect(head, inputs, clip)
    with torch.no_grad():
        feats, mask_feats = head.encode(inputs)
        one = head._decode_default(feats, mask_feats)['logits'].argmax(1) == 1
        two = head.forward_infer(inputs, clip).argmax(1) == 1
    assert result['lv_pass1'] == [int(x) for x in one.flatten(1).sum(1)]
    assert result['lv_pass2'] == [int(x) for x in two.flatten(1).sum(1)]
    assert result['changed'] == [int(x) for x in (one ^ two).flatten(1).sum(1)]
    assert sum(result['changed']) > 0 and result['logit_change'] > 0   # random tokens move


def test_references_that_carry_the_default_tokens_change_nothing():
    head = _head()
    inputs, clip = _inputs(1)
    head.tokens_from_memory = lambda sums, areas, weights: head.default_tokens.expand(
        sums.shape[0], sums.shape[1], -1, -1)
    result = tool.reference_effect(head, inputs, clip)
    assert result['changed'] == [0] * T and result['logit_change'] == 0.0
    assert result['lv_pass1'] == result['lv_pass2']


def test_a_head_without_two_passes_is_refused():
    with pytest.raises(ValueError, match="two_pass or two_pass_gt.*'causal'"):
        tool.reference_effect(_head(reference_mode='causal'), *_inputs())


def test_the_command_on_a_tiny_echoforge_checkpoint(tmp_path):
    base = osp.join(ROOT, 'configs', 'echoforge', 'r18_synthetic.py')
    config = tmp_path / 'tiny_ef.py'
    config.write_text(
        f'_base_ = [{base!r}]\n'
        "test_dataloader = dict(dataset=dict(num_videos=2, image_size=(32, 32), "
        "num_frames_range=(24, 26), pipeline=[dict(type='LoadEchoVideo'), "
        "dict(type='LoadEchoAnnotations'), dict(type='SampleClipFrames', num_frames=3), "
        "dict(type='PackEchoInputs')]))\n")
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    init_default_scope('echoseg')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(str(config)).model)
    ckpt = tmp_path / 'model.pth'
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    threads = torch.get_num_threads()
    try:
        out = tool.main([str(config), str(ckpt), '--threads', '1',
                         '--json', str(tmp_path / 'r.json')])
    finally:
        torch.set_num_threads(threads)
    assert len({c['video_id'] for c in out['clips']}) == 2 == out['summary']['clips']
    assert all(len(c['changed']) == 3 for c in out['clips'])
    s = out['summary']
    assert s['changed'] == sum(sum(c['changed']) for c in out['clips'])
    assert s['lv_pixels'] == sum(sum(c['lv_pass1']) for c in out['clips'])
    assert osp.isfile(tmp_path / 'r.json')
