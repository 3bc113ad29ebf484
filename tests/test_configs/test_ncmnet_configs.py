"""Every config in configs/ncmnet/ (mix included) trains one iteration and predicts.

The tiny runner of the EchoForge configs (``test_echoforge_configs``: synthetic clips of 3
frames at 32 x 32, narrowed models with every module type kept; NCM and UMA also get
fewer layers and narrower FFNs here); the ResNet-50 configs also run at full width on a
CAMUS 2023 NIfTI folder (and the EchoNet sample when present).
"""
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

CONFIG_DIR = osp.join(ROOT, 'configs', 'ncmnet')
CONFIGS = sorted(glob.glob(osp.join(CONFIG_DIR, '**', '*.py'), recursive=True))


def shrink_ncmnet(model: dict) -> dict:
    """``shrink_model`` plus shallower, narrower NCM and UMA (same module types; the
    deformable pixel decoder with one layer, a narrow FFN and 4 GroupNorm groups)."""
    model = shrink_model(model)
    neck = model.get('neck') or {}
    if neck.get('type') == 'NCMNeck':
        neck.update(num_layers=2, ffn_channels=32, cross_scale_channels=16)
    head = model['decode_head']
    if head['type'] == 'UMAHead':
        head.update(num_layers=2, num_heads=4, ffn_channels=32)
        decoder = head.get('pixel_decoder')
        if decoder:
            decoder['norm_cfg'] = dict(type='GN', num_groups=4)
            decoder['encoder']['num_layers'] = 1
            decoder['encoder']['layer_cfg']['ffn_cfg']['feedforward_channels'] = 32
    return model


def test_every_config_of_the_issue_exists():
    names = {osp.relpath(p, CONFIG_DIR) for p in CONFIGS}
    assert {'r50_camus.py', 'r50_echonet.py', 'r18_synthetic.py'} <= names
    assert {f'variants/{v}_{s}.py' for v in ('cross_scale', 'cfb_loss')
            for s in ('r50_camus', 'r18_synthetic')} <= names
    mixes = {n for n in names if n.startswith('mix/')}
    assert len(mixes) == 4
    kinds = {n: _types(load_config(osp.join(CONFIG_DIR, n)).model) for n in mixes}
    combos = {(k['neck'], k['decode_head'], k['pseudo_labeler']) for k in kinds.values()}
    assert combos == {('NCMNeck', 'TSFHead', 'CPRPseudoLabeler'), ('NCMNeck', 'FCNHead', None),
                      ('ARCNeck', 'UMAHead', None),
                      ('NCMNeck', 'UMAHead', 'CPRPseudoLabeler')}


@pytest.mark.parametrize('path', CONFIGS, ids=[osp.relpath(p, CONFIG_DIR) for p in CONFIGS])
def test_config_trains_one_iteration_and_predicts(path, tmp_path):
    from mmengine.runner import Runner
    cfg = load_config(path, work_dir=str(tmp_path))
    types = _types(cfg.model)
    cfg.model = shrink_ncmnet(cfg.model)
    assert _types(cfg.model) == types
    cfg = tiny_runner_cfg(cfg, tmp_path)
    cfg.experiment_name = f'ncmcfgtest_{osp.basename(path)[:-3]}_{os.getpid()}'
    cfg.visualizer = dict(cfg.visualizer, name=cfg.experiment_name)
    runner = Runner.from_cfg(cfg)
    _check_run(runner, FRAMES, 32)
    # the checkpoint holds plain data only (docs/checkpoints.md)
    ckpt = torch.load(osp.join(str(tmp_path), 'epoch_1.pth'), weights_only=True)
    assert any('neck.' in k or 'decode_head.' in k for k in ckpt['state_dict'])
    hub = runner.message_hub
    head = cfg.model['decode_head']
    if types['decode_head'] == 'UMAHead':
        assert ('train/decode.loss_cross_frame_boundary' in hub.log_scalars) == \
            bool(head.get('loss_temporal'))
        for i in range(head['num_layers']):  # deep supervision
            assert f'train/decode.d{i}.loss_bce_dice' in hub.log_scalars
        losses = head['loss_decode'] if isinstance(head['loss_decode'], list) else \
            [head['loss_decode']]
        if any(loss['type'] == 'BoundaryLoss' for loss in losses):  # on every prediction
            assert {'train/decode.loss_boundary', 'train/decode.d0.loss_boundary'} <= \
                set(hub.log_scalars)
        if head.get('pixel_decoder'):
            assert type(runner.model.decode_head.pixel_decoder).__name__ == \
                'MSDeformAttnPixelDecoder'
    if types['pseudo_labeler'] == 'CPRPseudoLabeler':
        assert 'train/pseudo_dice' in hub.log_scalars


def test_authors_settings():
    for name, size, batch in (('r50_camus.py', 256, 2), ('r50_echonet.py', 128, 8)):
        cfg = load_config(osp.join(CONFIG_DIR, name))
        m = cfg.model
        assert _types(m) == dict(backbone='ResNet', neck='NCMNeck', decode_head='UMAHead',
                                 pseudo_labeler=None)
        assert m.backbone.depth == 50 and tuple(m.backbone.strides) == (1, 2, 2, 2)
        neck = m.neck
        assert (neck.in_index, neck.num_layers, neck.num_heads) == (2, 5, 4)
        assert tuple(neck.kernel_size) == (7, 7, 7) and neck.ffn_channels == 1024
        assert neck.layer_form == 'fork' and tuple(neck.cross_scale_index) == ()
        head = m.decode_head
        assert (head.num_layers, head.num_heads, head.channels, head.out_channels) == \
            (9, 8, 256, 1)
        assert tuple(head.uncertainty_interval) == (0.4, 0.6)
        assert head.get('loss_temporal') is None and head.loss_decode.type == 'BCEDiceLoss'
        assert head.ffn_activation == 'relu'
        dec = head.pixel_decoder
        assert dec.type == 'mmdet.MSDeformAttnPixelDecoder' and dec.num_outs == 3
        assert dec.encoder.num_layers == 6 and dec.norm_cfg.num_groups == 32
        attn = dec.encoder.layer_cfg.self_attn_cfg
        assert (attn.num_heads, attn.num_levels, attn.num_points) == (8, 3, 4)
        assert dec.encoder.layer_cfg.ffn_cfg.feedforward_channels == 1024
        assert cfg.optim_wrapper.optimizer.type == 'SGD'
        assert cfg.optim_wrapper.optimizer.lr == 0.01
        ends = [s['end'] for s in cfg.param_scheduler]
        assert ends == [2000, 20000]
        assert cfg.train_dataloader.batch_size == batch
        steps = {s['type']: s for s in cfg.train_dataloader.dataset.pipeline}
        assert steps['SampleClipFrames']['num_frames'] == 10
        assert tuple(steps['ResizeClip']['scale']) == (size, size)
        assert 'RandomClipFlip' in steps


def _full_width_runner(name, tmp_path, size, **dataset):
    from mmengine.runner import Runner
    cfg = load_config(osp.join(CONFIG_DIR, name), work_dir=str(tmp_path / 'w'))
    drop_pretrained(cfg.model)  # no ImageNet download
    for loader, count in zip(('train_dataloader', 'val_dataloader', 'test_dataloader'),
                             (2, 1, 1)):
        cfg[loader].update(batch_size=count, num_workers=0, persistent_workers=False)
        ds = cfg[loader]['dataset']
        ds.update(indices=count, pipeline=_tiny_pipeline(ds['pipeline'], size), **dataset)
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1, val_interval=1)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1, save_best=None)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.experiment_name = f'ncm_{name[:-3]}_{os.getpid()}'
    cfg.visualizer = dict(cfg.visualizer, name=cfg.experiment_name)
    runner = Runner.from_cfg(cfg)
    assert runner.model.backbone.depth == 50
    assert runner.model.neck.layers[0].attn.q.in_features == 1024
    assert len(runner.model.neck.layers) == 5 and len(runner.model.decode_head.layers) == 9
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
    runner = _full_width_runner('r50_echonet.py', tmp_path, 64, data_root=root,
                                split_mode='ratio')
    out = _check_run(runner, FRAMES, 64)
    assert tuple(out.pred_masks.shape) == (FRAMES, 112, 112)


def _params(module):
    return sum(p.numel() for p in module.parameters())


def test_r50_model_builds_with_the_authors_widths_and_the_variants_differ_by_one_thing():
    from mmengine.registry import init_default_scope
    from torch import nn
    init_default_scope('echoseg')
    cfg = load_config(osp.join(CONFIG_DIR, 'r50_camus.py'))
    model = MODELS.build(cfg.model)
    neck = model.neck
    assert neck.cross_scale_index == [] and neck.layers[0].form == 'fork'
    assert neck.layers[0].attn.num_heads == 4 and neck.layers[0].attn.kernel_size == (7, 7, 7)
    assert neck.layers[0].ffn.mlp[0].out_features == 1024
    assert isinstance(neck.layers[0].ffn.mlp[1], nn.ReLU)
    dec = model.decode_head.pixel_decoder
    assert dec.mask_feature.out_channels == 256 and len(dec.encoder.layers) == 6
    # the cross-scale variant adds only NCM's cross-scale step (~7.9 M parameters)
    cross = MODELS.build(load_config(osp.join(CONFIG_DIR, 'variants',
                                              'cross_scale_r50_camus.py')).model)
    assert cross.neck.cross_scale_index == [1, 3]
    assert _params(cross.decode_head) == _params(model.decode_head)
    extra = _params(cross.neck) - _params(neck)
    assert 7.5e6 < extra < 8.5e6
    # the loss variant: the same model, one more loss
    cfb = load_config(osp.join(CONFIG_DIR, 'variants', 'cfb_loss_r50_camus.py')).model
    assert cfb.decode_head.loss_temporal.type == 'CrossFrameBoundaryLoss'
    assert cfb.decode_head.loss_temporal.denominator == 'fixed'
    cfb.decode_head.pop('loss_temporal')
    assert cfb == cfg.model
