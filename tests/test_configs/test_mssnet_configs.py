"""Every config in configs/mssnet/ (variants and mix included) trains one iteration and
predicts; the MSSNet configs use the Mamba network with SSG, RAC and DOC as the authors'
files.

The tiny runner of the EchoForge configs (``test_echoforge_configs``: synthetic clips of
3 frames at 32 x 32, narrowed models with every module type kept), with SSG and DOC made
narrow too.
"""
import copy
import glob
import os
import os.path as osp

import pytest
import torch
from test_echoforge_configs import (FRAMES, ROOT, SIZE, _check_run, _level_channels,
                                    _types, shrink_model, tiny_runner_cfg)

from echoseg.utils.config import load_config
from echoseg.registry import MODELS

CONFIG_DIR = osp.join(ROOT, 'configs', 'mssnet')
CONFIGS = sorted(glob.glob(osp.join(CONFIG_DIR, '**', '*.py'), recursive=True))


@pytest.fixture(autouse=True)
def scope():
    from mmengine.registry import init_default_scope
    init_default_scope('echoseg')


def _shrink_vss(model: dict) -> dict:
    """The Mamba network narrowed: widths 8-32, one VSS block per stage, SSG 8 wide."""
    model = copy.deepcopy(model)
    dims = (8, 16, 24, 32)
    model['backbone'].update(dims=dims, depths=(1, 1, 1, 1))
    neck = model['neck']
    neck['in_channels'] = list(dims)
    if neck['type'] == 'SAPTAPNeck':
        neck.update(embed_dims=8, num_heads=2)
    head = model['decode_head']
    head.update(in_channels=_level_channels(model), dims=dims, depths=(1, 1, 1, 1),
                channels=dims[0] // 4)
    return model


def shrink_mssnet(model: dict) -> dict:
    """``shrink_model`` (or the Mamba network narrowed) plus narrow SSG scans and DOC."""
    if model['backbone']['type'] == 'VSSEncoder':
        model = _shrink_vss(model)
    else:
        model = shrink_model(model)
    neck = model.get('neck')
    if neck and neck['type'] == 'SSGNeck':
        neck.update(embed_dims=8, d_state=4)
    labeler = model.get('pseudo_labeler')
    if labeler and labeler['type'] == 'DOCPseudoLabeler':
        outs = _level_channels(model)
        labeler.update(in_channels=outs[labeler.get('in_index', -1)], memory_resolution=16)
        if labeler.get('embed_dims') is not None:
            labeler['embed_dims'] = 8
    return model


def test_every_config_of_the_issue_exists():
    names = {osp.relpath(p, CONFIG_DIR) for p in CONFIGS}
    assert {'camus.py', 'echonet.py', 'synthetic.py'} <= names
    assert {'variants/r18_camus.py', 'variants/r18_echonet.py', 'variants/r18_synthetic.py',
            'variants/inter_clip_synthetic.py', 'variants/mixed_labels_synthetic.py',
            'variants/doc_prototype_synthetic.py', 'variants/mamba_ssg_synthetic.py'} <= names
    assert {'mix/ssg_fcn_r18_synthetic.py', 'mix/ssg_tsf_r18_synthetic.py',
            'mix/doc_echoforge_r18_synthetic.py', 'mix/rac_echoforge_r18_synthetic.py'} <= names


@pytest.mark.parametrize('path', CONFIGS, ids=[osp.relpath(p, CONFIG_DIR) for p in CONFIGS])
def test_config_trains_one_iteration_and_predicts(path, tmp_path):
    from mmengine.runner import Runner
    cfg = load_config(path, work_dir=str(tmp_path))
    types = _types(cfg.model)
    mixer = (cfg.model.get('clip_mixer') or {}).get('type')
    cfg.model = shrink_mssnet(cfg.model)
    assert _types(cfg.model) == types
    cfg = tiny_runner_cfg(cfg, tmp_path)
    cfg.experiment_name = f'msscfgtest_{osp.basename(path)[:-3]}_{os.getpid()}'
    cfg.visualizer = dict(cfg.visualizer, name=cfg.experiment_name)
    runner = Runner.from_cfg(cfg)
    _check_run(runner, FRAMES, SIZE)
    assert 'PlainCheckpointHook' in [type(h).__name__ for h in runner.hooks]
    assert (type(runner.model.clip_mixer).__name__ if runner.model.clip_mixer else None) \
        == mixer
    if types['pseudo_labeler'] == 'DOCPseudoLabeler':
        assert 'train/pseudo.loss_doc' in runner.message_hub.log_scalars
        assert runner.model.pseudo_labeler.memory  # the first epoch stores every clip


def test_paper_settings():
    """The Mamba network with SSG as SSG.py, RAC as RAC.py, DOC as DOC.py."""
    for name, size in (('camus.py', 256), ('echonet.py', 112), ('synthetic.py', 128)):
        cfg = load_config(osp.join(CONFIG_DIR, name))
        m = cfg.model
        assert _types(m) == dict(backbone='VSSEncoder', neck='SAPTAPNeck',
                                 decode_head='VSSDecoderHead',
                                 pseudo_labeler='DOCPseudoLabeler')
        assert m.neck.alpha == 0.5 and m.neck.embed_dims == 32
        assert m.clip_mixer == dict(type='RACMixer', intra_prob=1.0, inter_prob=0.0,
                                    lv_class=1, dilation=0, extra_sample=True,
                                    region_from='prediction', predict_mode='eval',
                                    label_mode='unchanged')
        doc = m.pseudo_labeler
        assert (doc.temperature, doc.threshold_momentum, doc.zero_threshold_epochs,
                doc.contrastive, doc.embed_dims) == (0.07, 0.0, 1, 'self', None)
        steps = {s['type']: s for s in cfg.train_dataloader.dataset.pipeline}
        assert steps['SampleClipFrames']['num_frames'] == 10
        assert tuple(steps['ResizeClip']['scale']) == (size, size)
        assert cfg.train_cfg.max_epochs == (6 if name == 'synthetic.py' else 50)
    old = load_config(osp.join(CONFIG_DIR, 'variants', 'r18_camus.py')).model
    assert _types(old)['neck'] == 'SSGNeck' and tuple(old.backbone.strides) == (1, 2, 1, 1)


def test_the_mamba_network_runs_at_every_config_size():
    """The full-width model of each config on one short clip at its own size: logits at
    full resolution (the bottleneck 8 x 8, 4 x 4 and 4 x 4 for 256, 128 and 112)."""
    from echoseg.models.utils import ClipContext
    for name, size in (('camus.py', 256), ('synthetic.py', 128), ('echonet.py', 112)):
        m = load_config(osp.join(CONFIG_DIR, name)).model
        torch.manual_seed(0)
        parts = [MODELS.build(m[k]).eval() for k in ('backbone', 'neck', 'decode_head')]
        clip = ClipContext(1, 3, torch.zeros(1, 3, dtype=torch.bool))
        with torch.no_grad():
            feats = parts[0](torch.randn(3, 1, size, size))
            assert feats[-1].shape[-1] == {256: 8, 128: 4, 112: 4}[size]
            logits = parts[2](parts[1](feats, clip=clip))
        assert logits.shape == (3, 1, size, size)


def test_synthetic_model_predicts_every_frame_of_a_clip_of_any_length():
    from echoseg.testing import make_clip_batch
    cfg = load_config(osp.join(CONFIG_DIR, 'synthetic.py'))
    torch.manual_seed(0)
    model = MODELS.build(shrink_mssnet(cfg.model)).eval()
    for t in (2, 7):
        inputs, samples = make_clip_batch(batch_size=1, num_frames=t, size=(SIZE, SIZE))
        data = model.data_preprocessor(dict(inputs=inputs, data_samples=samples), False)
        with torch.no_grad():
            out = model.predict(data['inputs'], data['data_samples'])
        assert out[0].pred_masks.shape[0] == t


@pytest.mark.parametrize('path', [osp.join(CONFIG_DIR, 'synthetic.py'),
                                  osp.join(ROOT, 'configs', 'echoforge', 'variants',
                                           'ms_r18_synthetic.py')],
                         ids=['doc', 'cpr'])
def test_resume_restores_the_pseudo_label_memory_exactly(path, tmp_path):
    """One epoch, a checkpoint (loaded with weights_only=True), a new runner resumed from
    it: DOC's memory and threshold (CPR's memory and reliabilities) are the same."""
    from mmengine.runner import Runner
    from echoseg.utils.checkpoint import load_local_checkpoint

    def runner_for(work_dir, name):
        cfg = load_config(path, work_dir=str(work_dir))
        cfg.model = shrink_mssnet(cfg.model)
        cfg = tiny_runner_cfg(cfg, work_dir)
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
        cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1)
        cfg.experiment_name = f'{name}_{os.getpid()}'
        cfg.visualizer = dict(cfg.visualizer, name=cfg.experiment_name)
        return Runner.from_cfg(cfg)

    first = runner_for(tmp_path, 'mssresume_a')
    first.train()
    labeler = first.model.pseudo_labeler
    assert labeler.memory
    ckpt = osp.join(str(tmp_path), 'epoch_1.pth')
    state = load_local_checkpoint(ckpt)  # weights_only=True
    assert 'pseudo_labeler.memory.maps' in state['state_dict']
    second = runner_for(tmp_path / 'b', 'mssresume_b')
    second.resume(ckpt)
    restored = second.model.pseudo_labeler
    assert set(restored.memory) == set(labeler.memory)
    assert all(torch.equal(restored.memory[k], labeler.memory[k]) for k in labeler.memory)
    for name, buf in labeler.named_buffers():
        if 'threshold' in name or 'reliability' in name:
            assert torch.equal(buf, dict(restored.named_buffers())[name]), name
    if hasattr(labeler, 'memory_reliability'):
        assert restored.memory_reliability == labeler.memory_reliability
