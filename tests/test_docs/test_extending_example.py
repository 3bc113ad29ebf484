"""The worked example of docs/extending.md: a user's neck from a config, one train step."""
import os.path as osp
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from echoseg.registry import MODELS
from echoseg.testing import make_clip_batch, tiny_segmentor_cfg

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
EXAMPLES = osp.join(ROOT, 'docs', 'examples')


@pytest.fixture
def examples_on_path():
    sys.path.insert(0, EXAMPLES)
    yield
    sys.path.remove(EXAMPLES)


def test_user_neck_from_config_trains(examples_on_path):
    cfg = Config.fromfile(osp.join(EXAMPLES, 'temporal_mean_fcn_r18_synthetic.py'))
    assert cfg.model.neck.type == 'TemporalMeanNeck'
    init_default_scope('echoseg')
    assert MODELS.get('TemporalMeanNeck') is not None  # registered by custom_imports
    model = MODELS.build(tiny_segmentor_cfg(neck=cfg.model.neck.to_dict()))
    assert model.neck.temporal and model.neck.alpha == 0.5
    inputs, samples = make_clip_batch(num_frames=3)
    data = model.data_preprocessor(dict(inputs=inputs, data_samples=samples), True)
    # the neck really mixes frames: frame 1's features depend on frame 0's input
    feats = model.backbone(data['inputs'].flatten(0, 1))
    clip = model.make_clip_context(data['inputs'], data['data_samples'], with_masks=False)
    out = model.neck(feats, clip=clip)
    v = clip.unfold(feats[-1])
    expected = 0.5 * v + 0.5 * v.mean(1, keepdim=True)
    assert torch.allclose(clip.unfold(out[-1]), expected, atol=1e-6)
    losses = model.loss(data['inputs'], data['data_samples'])
    loss = sum(v for k, v in losses.items() if 'loss' in k)
    loss.backward()
    assert torch.isfinite(loss)
