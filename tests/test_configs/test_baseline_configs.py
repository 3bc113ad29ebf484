"""Every baseline config builds, trains one iteration and predicts on tiny synthetic clips."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

from echoseg.registry import DATASETS, MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# the real-dataset baselines are exercised in test_real_dataset_baselines.py
CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs', 'baselines', '*_synthetic.py')))


@pytest.mark.parametrize('path', CONFIGS, ids=[osp.basename(p) for p in CONFIGS])
def test_baseline_config_trains_and_predicts(path):
    init_default_scope('echoseg')
    cfg = Config.fromfile(path)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    # the config's own pipelines on tiny clips: 3 frames of 32x32
    train_ds = cfg.train_dataloader.dataset.copy()
    train_ds.update(num_videos=2, image_size=(32, 32))
    for step in train_ds.pipeline:
        if step['type'] == 'SampleClipFrames':
            step['num_frames'] = 3
        if step['type'] == 'ResizeClip':
            step['scale'] = (32, 32)
    dataset = DATASETS.build(train_ds)
    batch = pseudo_collate([dataset[0], dataset[1]])
    optim = torch.optim.SGD(model.parameters(), lr=1e-3)
    model.train()
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    loss, _ = model.parse_losses(losses)
    loss.backward()
    optim.step()
    assert torch.isfinite(loss) and loss > 0
    model.eval()
    with torch.no_grad():
        out = model.test_step(batch)
    assert out[0].pred_masks.shape == (3, 32, 32)
    assert set(out[0].pred_masks.unique().tolist()) <= {0, 1}


def test_fpn_and_uperhead_variants_use_the_stock_modules():
    init_default_scope('echoseg')
    fpn = Config.fromfile(osp.join(ROOT, 'configs', 'baselines', 'fpn_fcn_r18_synthetic.py'))
    uper = Config.fromfile(osp.join(ROOT, 'configs', 'baselines', 'uperhead_r18_synthetic.py'))
    assert type(MODELS.build(fpn.model).neck).__module__.startswith('mmseg.')
    assert type(MODELS.build(uper.model).decode_head).__module__.startswith('mmseg.')
