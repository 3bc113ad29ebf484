"""The real-time model's configs: what they build, that they train, and that the video API
runs them on non-overlapping windows with their per-video memory."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope

from echoseg.apis import VideoPredictor, init_model
from echoseg.utils.config import load_config
from echoseg.testing import make_clip_batch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SYNTHETIC = osp.join(ROOT, 'configs', 'realtime', 'mobilenetv2_causal_synthetic.py')
ECHONET = osp.join(ROOT, 'configs', 'realtime', 'mobilenetv2_causal_echonet.py')


def test_synthetic_config_model_and_data():
    cfg = load_config(SYNTHETIC)
    assert cfg.model.backbone.type == 'MobileNetV2'
    assert cfg.model.decode_head.type == 'CausalTemporalHead'
    steps = {s['type']: s for s in cfg.train_dataloader.dataset.pipeline}
    assert steps['SampleClipFrames']['num_frames'] == 10
    assert tuple(steps['ResizeClip']['scale']) == (112, 112)
    model = init_model(cfg)
    assert sum(p.numel() for p in model.parameters()) < 1_000_000
    predictor = VideoPredictor(model)
    assert predictor.image_size == (112, 112) and predictor.num_frames == 10
    assert predictor.stride == 10 and predictor.uses_memory


def test_synthetic_model_learns_and_predicts():
    init_default_scope('echoseg')
    model = init_model(SYNTHETIC)
    model.train()
    inputs, samples = make_clip_batch(batch_size=2, num_frames=4, size=(64, 64))
    data = model.data_preprocessor(dict(inputs=inputs, data_samples=samples), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    assert torch.isfinite(total)
    assert model.decode_head.temporal_weight.grad is not None
    model.eval()
    result = VideoPredictor(model).predict(np.zeros((13, 80, 96), np.uint8))
    assert result.masks.shape == (13, 80, 96) and result.windows == [(0, 10), (10, 13)]


def test_echonet_config_reads_the_echonet_layout_and_trains(echodata, tmp_path):
    import glob
    import json
    import subprocess
    import sys
    cfg = load_config(ECHONET)
    assert cfg.model == load_config(SYNTHETIC).model
    assert cfg.train_dataloader.dataset.type == 'EchoNetDynamicDataset'
    root = osp.join(echodata, 'echonet_sample')
    options = [f'{s}_dataloader.dataset.{k}={v}' for s in ('train', 'val', 'test')
               for k, v in (('data_root', root), ('split_mode', 'ratio'))]
    options += [f'{s}_dataloader.{k}' for s in ('train', 'val', 'test')
                for k in ('num_workers=0', 'persistent_workers=False')]
    options += ['train_dataloader.batch_size=2', 'train_cfg.max_epochs=1']
    work = tmp_path / 'work'
    proc = subprocess.run([sys.executable, 'tools/train.py', ECHONET, '--work-dir', str(work),
                           '--cfg-options', *options], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    scalars = glob.glob(str(work / '*' / 'vis_data' / 'scalars.json'))
    rows = [json.loads(line) for line in open(scalars[0])]
    assert any('loss' in r for r in rows) and any('mDice' in r for r in rows)
    # the checkpoint loads safely (weights_only) into the config's model
    model = init_model(ECHONET, str(work / 'epoch_1.pth'))
    assert not model.training
