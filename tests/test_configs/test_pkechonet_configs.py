"""Every config in configs/pkechonet/ (mix included) trains one iteration and predicts.

The same tiny runner as the EchoForge configs (``test_echoforge_configs``: synthetic
clips of 3 frames at 32 x 32, narrowed models with every module type kept); the
ResNet-50 CAMUS config also runs at full width on a CAMUS 2023 NIfTI folder.
"""
import copy
import glob
import os
import os.path as osp

import pytest
import torch
from test_echoforge_configs import (FRAMES, ROOT, _check_run, _tiny_pipeline, _types,
                                    shrink_model, tiny_runner_cfg, write_camus_fixture)

from echoseg.utils.config import load_config
from echoseg.registry import MODELS
from echoseg.utils.pretrained import drop_pretrained

CONFIG_DIR = osp.join(ROOT, 'configs', 'pkechonet')
CONFIGS = sorted(glob.glob(osp.join(CONFIG_DIR, '**', '*.py'), recursive=True))


def test_every_config_of_the_issue_exists():
    names = {osp.relpath(p, CONFIG_DIR) for p in CONFIGS}
    assert {'r18_camus.py', 'r50_camus.py', 'r50_echonet.py', 'r18_synthetic.py'} <= names
    assert len([n for n in names if n.startswith('mix/')]) == 4


@pytest.mark.parametrize('path', CONFIGS, ids=[osp.relpath(p, CONFIG_DIR) for p in CONFIGS])
def test_config_trains_one_iteration_and_predicts(path, tmp_path):
    from mmengine.runner import Runner
    cfg = load_config(path, work_dir=str(tmp_path))
    types = _types(cfg.model)
    cfg.model = shrink_model(cfg.model)
    assert _types(cfg.model) == types
    cfg = tiny_runner_cfg(cfg, tmp_path)
    cfg.experiment_name = f'pkcfgtest_{osp.basename(path)[:-3]}_{os.getpid()}'
    cfg.visualizer = dict(cfg.visualizer, name=cfg.experiment_name)
    runner = Runner.from_cfg(cfg)
    _check_run(runner, FRAMES, 32)
    hub = runner.message_hub
    if types['decode_head'] == 'KSSHead':
        stages = cfg.model['decode_head']['num_stages']
        for i in range(stages + 1):  # eq. 6: every stage supervised
            assert f'train/decode.s{i}.loss_dice' in hub.log_scalars
            assert f'train/decode.s{i}.loss_boundary' in hub.log_scalars
    if types['pseudo_labeler'] == 'CPRPseudoLabeler':
        assert 'train/pseudo_dice' in hub.log_scalars


def test_paper_settings():
    for name, size, depth in (('r50_camus.py', 320, 50), ('r18_camus.py', 320, 18),
                              ('r50_echonet.py', 128, 50)):
        cfg = load_config(osp.join(CONFIG_DIR, name))
        m = cfg.model
        assert _types(m) == dict(backbone='ResNet', neck='MRPNeck', decode_head='KSSHead',
                                 pseudo_labeler=None)
        assert m.backbone.depth == depth and tuple(m.backbone.strides) == (1, 2, 2, 2)
        assert tuple(m.neck.scales) == (4, 2, 2, 2) and m.neck.neighbourhood == 3
        head = m.decode_head
        assert (head.num_stages, head.channels, head.out_channels) == (3, 32, 1)
        assert [loss['type'] for loss in head.loss_decode] == ['BCEDiceLoss', 'BoundaryLoss']
        assert head.loss_decode[0]['bce_weight'] == 0.0  # Dice only
        assert cfg.train_cfg.max_epochs == 50
        assert cfg.optim_wrapper.optimizer.type == 'Adam'
        assert cfg.optim_wrapper.optimizer.lr == 1e-3
        poly = [s for s in cfg.param_scheduler if s.type == 'PolyLR']
        assert poly and poly[0].power == 0.9
        assert cfg.train_dataloader.batch_size == 8
        steps = {s['type']: s for s in cfg.train_dataloader.dataset.pipeline}
        assert steps['SampleClipFrames']['num_frames'] == 10
        assert tuple(steps['ResizeClip']['scale']) == (size, size)
        assert tuple(steps['RandomClipRotation']['angle_range']) == (-20.0, 20.0)
        assert tuple(steps['RandomClipContrast']['contrast_range']) == (0.85, 1.15)
        assert 'RandomClipFlip' in steps
        test_steps = {s['type']: s for s in cfg.test_dataloader.dataset.pipeline}
        assert tuple(test_steps['ResizeClip']['scale']) == (size, size)


def _full_width_runner(name, tmp_path, size, counts=(2, 1, 1), **dataset):
    """A config at full width on a real-layout folder: only the image size, the frames
    (FRAMES) and the number of clips are made small; one epoch of one iteration."""
    from mmengine.runner import Runner
    cfg = load_config(osp.join(CONFIG_DIR, name), work_dir=str(tmp_path / 'w'))
    drop_pretrained(cfg.model)  # no ImageNet download
    for loader, count in zip(('train_dataloader', 'val_dataloader', 'test_dataloader'),
                             counts):
        cfg[loader].update(batch_size=count, num_workers=0, persistent_workers=False)
        ds = cfg[loader]['dataset']
        ds.update(indices=count, pipeline=_tiny_pipeline(ds['pipeline'], size), **dataset)
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1, val_interval=1)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1, save_best=None)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.experiment_name = f'pk_{name[:-3]}_{os.getpid()}'
    cfg.visualizer = dict(cfg.visualizer, name=cfg.experiment_name)
    runner = Runner.from_cfg(cfg)
    assert runner.model.backbone.depth == 50
    assert runner.model.neck.estimators[-1].depthwise.in_channels == 2048
    return runner


def test_r50_camus_trains_at_full_width_on_camus_layout(tmp_path):
    root = str(tmp_path / 'CAMUS_public')
    split = write_camus_fixture(root)
    runner = _full_width_runner('r50_camus.py', tmp_path, 64, data_root=root,
                                split_file=split)
    out = _check_run(runner, FRAMES, 64)
    assert tuple(out.pred_masks.shape) == (FRAMES, 40, 36)  # back at the source size


def test_r50_echonet_trains_at_full_width_on_the_echonet_sample(echodata, tmp_path):
    root = osp.join(echodata, 'echonet_sample')
    # the sample's rows are all TEST: the seeded ratio split makes it trainable
    runner = _full_width_runner('r50_echonet.py', tmp_path, 128, data_root=root,
                                split_mode='ratio')
    out = _check_run(runner, FRAMES, 128)
    assert tuple(out.pred_masks.shape) == (FRAMES, 112, 112)  # the AVIs' size


def test_r50_camus_parameter_count_is_the_papers():
    """Table 2: 25.7 M parameters for the ResNet-50 model."""
    cfg = load_config(osp.join(CONFIG_DIR, 'r50_camus.py'))
    model = MODELS.build(cfg.model)
    params = sum(p.numel() for p in model.parameters()) / 1e6
    assert abs(params - 25.7) < 0.5, params
    cfg18 = load_config(osp.join(CONFIG_DIR, 'r18_camus.py'))
    params18 = sum(p.numel() for p in MODELS.build(cfg18.model).parameters()) / 1e6
    assert abs(params18 - 11.7) < 0.5, params18


def test_whole_model_inference_of_a_clip_does_not_depend_on_its_batch():
    from echoseg.testing import make_clip_batch
    cfg = load_config(osp.join(CONFIG_DIR, 'r18_synthetic.py'))
    torch.manual_seed(0)
    model = MODELS.build(shrink_model(cfg.model)).eval()
    inputs, samples = make_clip_batch(batch_size=3, num_frames=4, size=(64, 64))
    data = model.data_preprocessor(dict(inputs=inputs, data_samples=samples), False)
    with torch.no_grad():
        batch = model.predict(data['inputs'], copy.deepcopy(data['data_samples']))
        alone = model.predict(data['inputs'][1:2], copy.deepcopy(data['data_samples'][1:2]))
    torch.testing.assert_close(batch[1].seg_logits, alone[0].seg_logits,
                               rtol=1e-4, atol=1e-5)
