"""Every config in configs/echoforge/ (mix included) trains one iteration and predicts.

The configs run through MMEngine's Runner (their hooks, schedules and evaluators included)
on tiny inputs: the datasets are replaced by a couple of synthetic clips of 3 frames at
32 x 32, and the models are made narrow (ResNet base_channels 8, MobileNetV2
widen_factor 0.25, 16-channel heads) with every module type kept; the channels the neck,
head and pseudo-labeler read are recomputed from the narrowed backbone. The ResNet-50
CAMUS configs also run at full width on a CAMUS 2023 NIfTI folder written by the test.
"""
import copy
import glob
import json
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope

from echoseg.cli import train_main
from echoseg.models.utils import ClipContext
from echoseg.utils.config import load_config
from echoseg.registry import MODELS
from echoseg.utils.config_check import check_data_roots
from echoseg.utils.pretrained import drop_pretrained

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_DIR = osp.join(ROOT, 'configs', 'echoforge')
CONFIGS = sorted(glob.glob(osp.join(CONFIG_DIR, '**', '*.py'), recursive=True))
SIZE, FRAMES = 32, 3


@pytest.fixture(autouse=True)
def one_thread():
    # tiny ops on a shared CPU: one thread avoids OpenMP oversubscription
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    init_default_scope('echoseg')
    yield
    torch.set_num_threads(n)


def _types(model: dict) -> dict:
    return {k: (model.get(k) or {}).get('type')
            for k in ('backbone', 'neck', 'decode_head', 'pseudo_labeler')}


def _level_channels(model: dict):
    """Channels of the neck outputs (backbone outputs without a neck) on a dummy frame."""
    modules = [MODELS.build(copy.deepcopy(model['backbone']))]
    if model.get('neck'):
        modules.append(MODELS.build(copy.deepcopy(model['neck'])))
    feats = torch.zeros(1, model['backbone'].get('in_channels', 3), SIZE, SIZE)
    with torch.no_grad():
        for module in modules:
            module.eval()  # (mmseg's ResNet.train() returns None: no chaining)
            feats = module(feats)
    return [f.shape[1] for f in feats]


def shrink_model(model: dict) -> dict:
    """A narrow copy of a model config with the same module types."""
    model = copy.deepcopy(model)
    model.pop('pretrained', None)
    bb = model['backbone']
    if bb['type'] in ('ResNetV1c', 'ResNet', 'ResNetV1d'):
        bb.update(base_channels=8, stem_channels=8)
    elif bb['type'] == 'MobileNetV2':
        bb.update(widen_factor=0.25)
    else:
        raise AssertionError(f'no shrinking rule for backbone {bb["type"]}')
    neck = model.get('neck')
    if neck:
        neck['in_channels'] = _level_channels(dict(backbone=bb))
        if neck['type'] == 'ARCNeck':
            # a bottleneck stays a (narrower) bottleneck, full width stays full width
            neck.update(num_heads=4, k=4)
            if neck.get('embed_dims') is not None:
                neck['embed_dims'] = 16
        elif neck['type'] == 'FPN':
            neck['out_channels'] = 16
    outs = _level_channels(model)
    head = model['decode_head']
    idx = head.get('in_index', -1)
    head['in_channels'] = [outs[i] for i in idx] if isinstance(idx, (list, tuple)) \
        else outs[idx]
    head['channels'] = 16
    if head['type'] == 'TSFHead':
        head.update(num_heads=4, num_queries=4)
        decoder = head.get('pixel_decoder')
        if decoder:  # the head fills in its widths; a shallow, narrow decoder of one type
            decoder['norm_cfg'] = dict(decoder.get('norm_cfg') or {}, num_groups=4)
            if decoder.get('encoder'):
                decoder['encoder']['num_layers'] = 1
                layer = decoder['encoder']['layer_cfg']
                layer['self_attn_cfg']['num_heads'] = 4
                layer['ffn_cfg']['feedforward_channels'] = 32
    labeler = model.get('pseudo_labeler')
    if labeler and labeler['type'] == 'CPRPseudoLabeler':
        labeler.update(in_channels=outs[labeler.get('in_index', -1)], channels=8,
                       memory_resolution=16)
        if labeler.get('decoder_channels'):
            labeler['decoder_channels'] = head['channels']
    return model


def _tiny_pipeline(pipeline, size=SIZE, frames=FRAMES):
    out = copy.deepcopy(pipeline)
    for step in out:
        if step['type'] == 'ResizeClip':
            step['scale'] = (size, size)
        if step['type'] == 'SampleClipFrames':
            step['num_frames'] = frames
    return out


def tiny_runner_cfg(cfg, work_dir):
    """Synthetic clips instead of the config's data, one iteration, one validation clip;
    no ImageNet weights (nothing is downloaded)."""
    cfg.work_dir = str(work_dir)
    drop_pretrained(cfg.model)
    for name, num, bs in (('train_dataloader', 2, 2), ('val_dataloader', 1, 1),
                          ('test_dataloader', 1, 1)):
        loader = cfg[name]
        ds = loader['dataset']
        loader.update(batch_size=bs, num_workers=0, persistent_workers=False)
        loader['dataset'] = dict(type='SyntheticEchoDataset', num_videos=num, seed=len(name),
                                 image_size=(SIZE, SIZE), mode=ds.get('mode', 'semi'),
                                 test_mode=ds.get('test_mode', False),
                                 num_frames_range=(24, 26),
                                 pipeline=_tiny_pipeline(ds['pipeline']))
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1, val_interval=1)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1, save_best=None)
    return cfg


def _val_frames(runner, frames):
    """Frames of the first validation clip: ``frames``, or the whole ED..ES span when the
    validation pipeline keeps every frame (CAMUS-Full)."""
    pipeline = runner.val_dataloader.dataset.pipeline.transforms
    if any(getattr(t, 'all_frames', False) for t in pipeline):
        info = runner.val_dataloader.dataset.get_data_info(0)
        return abs(info['es_frame'] - info['ed_frame']) + 1
    return frames


def _check_run(runner, frames, size):
    runner.train()
    hub = runner.message_hub
    losses = [k for k in hub.log_scalars if k.startswith('train/') and 'loss' in k]
    assert losses and all(np.isfinite(hub.get_scalar(k).current()) for k in losses)
    assert 'val/mDice' in hub.log_scalars
    frames = _val_frames(runner, frames)
    batch = next(iter(runner.val_dataloader))
    runner.model.eval()
    with torch.no_grad():
        out = runner.model.val_step(batch)[0]
    assert out.pred_masks.shape[0] == frames
    assert out.seg_logits.shape[:2] == (frames, 2)
    assert set(out.pred_masks.unique().tolist()) <= {0, 1}
    return out


@pytest.mark.parametrize('path', CONFIGS, ids=[osp.relpath(p, CONFIG_DIR) for p in CONFIGS])
def test_config_trains_one_iteration_and_predicts(path, tmp_path):
    from mmengine.runner import Runner
    cfg = load_config(path, work_dir=str(tmp_path))
    types = _types(cfg.model)
    cfg.model = shrink_model(cfg.model)
    assert _types(cfg.model) == types  # the config's own module types
    cfg = tiny_runner_cfg(cfg, tmp_path)
    cfg.load_from = None  # fine-tuning configs name a pretraining checkpoint (tested apart)
    cfg.experiment_name = f'cfgtest_{osp.basename(path)[:-3]}_{os.getpid()}'
    cfg.visualizer = dict(cfg.visualizer, name=cfg.experiment_name)
    runner = Runner.from_cfg(cfg)
    _check_run(runner, FRAMES, SIZE)
    hooks = [type(h).__name__ for h in runner.hooks]
    assert 'PlainCheckpointHook' in hooks
    if types['pseudo_labeler'] == 'CPRPseudoLabeler':
        assert 'FlameRiseHook' in hooks
        assert 'train/pseudo_dice' in runner.message_hub.log_scalars


def test_paper_settings_of_r50_configs():
    camus = load_config(osp.join(CONFIG_DIR, 'r50_camus.py'))
    full = load_config(osp.join(CONFIG_DIR, 'r50_camus_full.py'))
    echonet = load_config(osp.join(CONFIG_DIR, 'r50_echonet.py'))
    for cfg, size in ((camus, 256), (full, 256), (echonet, 128)):
        m = cfg.model
        assert (m.backbone.type, m.backbone.depth) == ('ResNetV1c', 50)
        assert _types(m) == dict(backbone='ResNetV1c', neck='ARCNeck', decode_head='TSFHead',
                                 pseudo_labeler='CPRPseudoLabeler')
        assert m.decode_head.loss_decode.type == 'BCEDiceLoss'
        assert m.decode_head.out_channels == 1
        assert cfg.train_cfg.max_epochs == 50
        assert cfg.optim_wrapper.optimizer.type == 'Adam'
        assert cfg.optim_wrapper.optimizer.lr == 1e-4
        poly = [s for s in cfg.param_scheduler if s.type == 'PolyLR']
        assert poly and poly[0].power == 0.9
        assert cfg.train_dataloader.batch_size == 4
        pipe = cfg.train_dataloader.dataset.pipeline
        steps = {s['type']: s for s in pipe}
        assert steps['SampleClipFrames']['num_frames'] == 10
        assert tuple(steps['ResizeClip']['scale']) == (size, size)
        for aug in ('RandomClipGamma', 'RandomClipScale', 'RandomClipRotation',
                    'RandomClipContrast'):
            assert steps[aug]['prob'] == 0.5
        test_steps = {s['type']: s for s in cfg.test_dataloader.dataset.pipeline}
        assert tuple(test_steps['ResizeClip']['scale']) == (size, size)
        hooks = [h['type'] for h in cfg.custom_hooks]
        # the config's own hooks, then those the tools add to every run (docs/checkpoints.md)
        assert hooks == ['PlainCheckpointHook', 'FlameRiseHook', 'RandomStateHook',
                         'PseudoLabelMemorySyncHook']
    assert camus.val_dataloader.dataset.mode == 'semi'
    assert full.val_dataloader.dataset.mode == 'full'
    assert full.test_dataloader.dataset.mode == 'full'
    assert full.train_dataloader.dataset.mode == 'semi'
    # CAMUS-Full: the whole half sequence, ED to ES, one clip per batch
    for loader in (full.val_dataloader, full.test_dataloader):
        steps = {s['type']: s for s in loader.dataset.pipeline}
        assert steps['SampleClipFrames'].get('all_frames') is True
        assert steps['ResizeClip'].get('keep_ori_masks') is True
        assert loader.batch_size == 1
    for loader in (camus.val_dataloader, camus.test_dataloader):
        steps = {s['type']: s for s in loader.dataset.pipeline}
        assert not steps['SampleClipFrames'].get('all_frames')
        assert steps['SampleClipFrames']['num_frames'] == 10


# ------------------------------------------------------------------ CAMUS without / with data
def test_r50_camus_without_data_points_to_docs(tmp_path, monkeypatch, capsys):
    # the config's data_root 'data/camus' is relative: run from a folder that lacks it
    run_dir = tmp_path / 'run'
    (run_dir / 'data').mkdir(parents=True)
    monkeypatch.chdir(run_dir)
    with pytest.raises(SystemExit) as exc:
        train_main([osp.join(CONFIG_DIR, 'r50_camus.py'), '--work-dir',
                    str(tmp_path / 'work'), '--cfg-options', 'model.backbone.init_cfg=None'])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "data_root 'data/camus' does not exist" in err and 'docs/datasets.md' in err


def _write_image(path, arr, spacing=(0.3, 0.3)):
    import SimpleITK as sitk
    img = sitk.GetImageFromArray(arr)
    img.SetSpacing((spacing[1], spacing[0]) + (1.0, ) * (img.GetDimension() - 2))
    sitk.WriteImage(img, path)


def write_camus_fixture(root, patients=('patient0001', 'patient0002', 'patient0003'),
                        n=5, h=40, w=36):
    """A CAMUS 2023 NIfTI layout: half sequences (ED first) of ``n`` frames (one number,
    or one per patient), full-sequence masks, ED/ES images and masks and Info_*.cfg for
    both views of every patient; a split file with one patient (two clips) for training,
    one for validation, the rest for testing."""
    yy, xx = np.mgrid[:h, :w]
    rng = np.random.default_rng(0)
    lengths = [n] * len(patients) if isinstance(n, int) else list(n)
    for p, (pid, n) in enumerate(zip(patients, lengths)):
        folder = osp.join(root, 'database_nifti', pid)
        os.makedirs(folder, exist_ok=True)
        for view in ('2CH', '4CH'):
            labels = np.zeros((n, h, w), np.uint8)
            for i in range(n):
                r = 12 - 5 * i / (n - 1) - p
                labels[i][((yy - h / 2) ** 2 + (xx - w / 2) ** 2) <= (r + 3) ** 2] = 2
                labels[i][((yy - h / 2) ** 2 + (xx - w / 2) ** 2) <= r ** 2] = 1
            video = (30 + 60 * (labels == 2) + 20 * (labels == 1)
                     + rng.integers(0, 20, labels.shape)).astype(np.uint8)
            base = osp.join(folder, f'{pid}_{view}')
            _write_image(base + '_half_sequence.nii.gz', video)
            _write_image(base + '_half_sequence_gt.nii.gz', labels)
            for tag, f in (('ED', 0), ('ES', n - 1)):
                _write_image(base + f'_{tag}.nii.gz', video[f])
                _write_image(base + f'_{tag}_gt.nii.gz', labels[f])
            with open(osp.join(folder, f'Info_{view}.cfg'), 'w') as f:
                f.write(f'ED: 1\nES: {n}\nNbFrame: {n}\nSex: F\nAge: 60\n'
                        'ImageQuality: Good\nLVedv: 100.0\nLVesv: 40.0\nLVef: 60.0\n')
    split = osp.join(root, 'split.json')
    with open(split, 'w') as f:
        json.dump(dict(train=[patients[0]], val=[patients[1]], test=list(patients[2:])), f)
    return split


@pytest.mark.parametrize('name', ['r50_camus.py', 'r50_camus_full.py'])
def test_r50_camus_trains_on_camus_layout(name, tmp_path):
    """Full-width ResNet-50 EchoForge, one iteration on a CAMUS 2023 folder: only the image
    size (64), the frames (3) and the number of clips are made small."""
    from mmengine.runner import Runner
    root = str(tmp_path / 'CAMUS_public')
    split = write_camus_fixture(root)
    cfg = load_config(osp.join(CONFIG_DIR, name), work_dir=str(tmp_path / 'work'))
    drop_pretrained(cfg.model)  # no ImageNet download
    size = 64
    for loader, count, bs in (('train_dataloader', 2, 2), ('val_dataloader', 1, 1),
                              ('test_dataloader', 1, 1)):
        cfg[loader].update(batch_size=bs, num_workers=0, persistent_workers=False)
        ds = cfg[loader]['dataset']
        ds.update(data_root=root, split_file=split, indices=count,
                  pipeline=_tiny_pipeline(ds['pipeline'], size))
    check_data_roots(cfg, name)  # the folder exists: no error
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1, val_interval=1)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1, save_best=None)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.experiment_name = f'camus_{name[:-3]}_{os.getpid()}'
    cfg.visualizer = dict(cfg.visualizer, name=cfg.experiment_name)
    runner = Runner.from_cfg(cfg)
    assert runner.model.backbone.depth == 50
    assert len(runner.train_dataloader.dataset) == 2
    out = _check_run(runner, FRAMES, size)
    # CAMUS-Semi: a clip of FRAMES frames, ED and ES evaluated; CAMUS-Full: the whole half
    # sequence (5 frames) as one clip, every frame evaluated
    frames = 5 if name == 'r50_camus_full.py' else FRAMES
    assert tuple(out.pred_masks.shape) == (frames, 40, 36)  # back at the source size
    evaluated = runner.message_hub.get_scalar('val/num_frames').current()
    assert evaluated == (5 if name == 'r50_camus_full.py' else 2)


def test_r50_camus_full_tests_whole_sequences_of_any_length(tmp_path):
    """The (narrowed) EchoForge model of r50_camus_full.py through Runner.test() on half
    sequences of 13 and 17 frames: each is one clip, every frame predicted and counted."""
    from mmengine.runner import Runner
    root = str(tmp_path / 'CAMUS_public')
    lengths = (5, 5, 13, 17)
    split = write_camus_fixture(root, patients=[f'patient000{i}' for i in range(1, 5)],
                                n=lengths)
    cfg = load_config(osp.join(CONFIG_DIR, 'r50_camus_full.py'), work_dir=str(tmp_path / 'w'))
    cfg.model = shrink_model(cfg.model)
    loader = cfg.test_dataloader
    loader.update(num_workers=0, persistent_workers=False)
    loader.dataset.update(data_root=root, split_file=split, views=('2CH', ))
    for step in loader.dataset.pipeline:
        if step['type'] == 'ResizeClip':
            step['scale'] = (SIZE, SIZE)
    cfg.experiment_name = f'camus_full_test_{os.getpid()}'
    cfg.visualizer = dict(cfg.visualizer, name=cfg.experiment_name)
    cfg.test_evaluator = dict(cfg.test_evaluator, dump_path=str(tmp_path / 'eval.json'))
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    assert metrics['num_clips'] == 2 and metrics['num_frames'] == 13 + 17
    with open(tmp_path / 'eval.json') as f:
        clips = json.load(f)['clips']
    assert sorted((c['num_frames'], c['num_labelled']) for c in clips) == [(13, 13), (17, 17)]
    assert all(len(c['areas_pred']) == c['num_frames'] for c in clips)

    # the whole sequence keeps ED and ES at the clip's ends, where the model's references
    # are: the frames a 10-frame CAMUS-Semi clip holds get the same prediction in both
    from echoseg.datasets.transforms import ed_to_es_indices
    from echoseg.structures import EchoDataSample
    batch = next(iter(runner.test_dataloader))
    whole_sample = batch['data_samples'][0]
    t = batch['inputs'][0].shape[0]
    keep = ed_to_es_indices(0, t - 1, 10)
    sub = EchoDataSample(metainfo=dict(whole_sample.metainfo, ed_index=0, es_index=9,
                                       frame_indices=keep))
    sub.labelled = whole_sample.labelled[keep]
    runner.model.eval()
    with torch.no_grad():
        whole = runner.model.test_step(batch)[0].seg_logits
        semi = runner.model.test_step(dict(inputs=[batch['inputs'][0][keep]],
                                           data_samples=[sub]))[0].seg_logits
    assert t > 10 and whole.shape[0] == t and semi.shape[0] == 10
    torch.testing.assert_close(semi, whole[keep], rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------ the paper's wiring
FAITHFUL = ('r18_synthetic.py', 'r50_camus.py')
ND_VARIANTS = ('variants/nd_r18_synthetic.py', 'variants/nd_r50_camus.py')


def _faithful_model(name, size=SIZE):
    from echoseg.testing import make_clip_batch
    cfg = load_config(osp.join(CONFIG_DIR, name))
    torch.manual_seed(0)
    model = MODELS.build(shrink_model(cfg.model))
    model.eval()
    inputs, samples = make_clip_batch(batch_size=1, num_frames=4, size=(size, size))
    data = model.data_preprocessor(dict(inputs=inputs, data_samples=samples), False)
    return model, data


def _logits_with_hook(model, data, module, level, delta):
    """Logits of the clip when ``module``'s output level ``level`` is shifted by delta."""
    def hook(_, __, out):
        out = list(out)
        out[level] = out[level] + delta
        return tuple(out)
    handle = module.register_forward_hook(hook) if delta else None
    try:
        with torch.no_grad():
            return model._forward(data['inputs'], data['data_samples'])
    finally:
        if handle is not None:
            handle.remove()


@pytest.mark.parametrize('name', FAITHFUL)
def test_arc_output_reaches_tsf_through_the_pixel_decoder(name):
    """ARC recalibrates the encoder output (level 3) only; the pixel decoder reads levels
    0-2 of the encoder and ARC's level 3, and TSF decodes its output. At 64 x 64 the
    ResNet-50's level 3 is 2 x 2. At 32 x 32 it is one pixel: as built (the fusion update
    starts as the identity) both anchors are that pixel, so ARC leaves it unchanged in exact
    arithmetic, and in float32 it moves by one rounding error or not at all, depending on
    the thread count and the CPU (1 vs 2 threads flips it on one machine): no test of ARC."""
    model, data = _faithful_model(name, size=64)
    assert model.neck.in_index == [-1]
    assert model.decode_head.in_index == [0, 1, 2, 3]
    assert model.decode_head.pixel_decoder is not None
    with torch.no_grad():
        x = model.backbone(data['inputs'].flatten(0, 1))
        y = model.neck(x)
    for level in (0, 1, 2):  # ARC passes the other levels through unchanged
        assert torch.equal(x[level], y[level]), level
    assert not torch.equal(x[3], y[3])
    base = _logits_with_hook(model, data, model.neck, 3, 0.0)
    for level in range(4):  # every level the decoder reads changes TSF's logits
        shifted = _logits_with_hook(model, data, model.neck, level, 1.0)
        assert (shifted - base).abs().max() > 1e-4, level


@pytest.mark.parametrize('name', ND_VARIANTS)
def test_nd_variant_tsf_reads_arc_output_and_nothing_else(name):
    """EchoForge-ND keeps the earlier wiring: TSF reads ARC's output alone."""
    model, data = _faithful_model(name)
    assert model.decode_head.in_index == 3 and model.neck.in_index == [-1]
    assert model.decode_head.pixel_decoder is None
    base = _logits_with_hook(model, data, model.neck, 3, 0.0)
    # a perturbation of ARC's output changes TSF's logits
    arc = _logits_with_hook(model, data, model.neck, 3, 1.0)
    assert (arc - base).abs().max() > 1e-3
    # backbone levels 0-2 are not read (by ARC or TSF): shifting them changes nothing
    for level in (0, 1, 2):
        other = _logits_with_hook(model, data, model.backbone, level, 1.0)
        assert torch.equal(other, base), level


@pytest.mark.parametrize('name,variant', [('r18_synthetic.py', 'variants/nd_r18_synthetic.py'),
                                          ('r18_echonet.py', 'variants/nd_r18_echonet.py'),
                                          ('r50_camus.py', 'variants/nd_r50_camus.py')])
def test_default_decodes_at_stride_4_and_the_nd_variant_at_the_encoder_stride(name, variant):
    """Logits of the decode head before the segmentor's resize: stride 4 with the pixel
    decoder; the encoder's output stride (32 for R50 CAMUS, 16 / 8 for the dilated R18
    configs) without it."""
    size = 64
    for config, stride in ((name, 4), (variant, None)):
        cfg = load_config(osp.join(CONFIG_DIR, config))
        model = MODELS.build(shrink_model(cfg.model)).eval()
        with torch.no_grad():
            feats = model.backbone(torch.zeros(2, 3, size, size))
        expected = stride or size // feats[3].shape[-1]
        clip = ClipContext(1, 2, torch.zeros(1, 2, dtype=torch.bool), input_shape=(size, size))
        with torch.no_grad():
            logits = model.decode_head.predict_clip(model.neck(feats), clip)
        assert tuple(logits.shape[-2:]) == (size // expected, size // expected), config
    # the variant differs in the head only: the same encoder
    assert load_config(osp.join(CONFIG_DIR, variant)).model.backbone == \
        load_config(osp.join(CONFIG_DIR, name)).model.backbone


@pytest.mark.parametrize('name', FAITHFUL + ND_VARIANTS)
def test_inference_ignores_the_ground_truth_in_the_data_samples(name):
    model, data = _faithful_model(name)
    samples = data['data_samples']
    with torch.no_grad():
        a = model.predict(data['inputs'], copy.deepcopy(samples))[0].seg_logits
        changed = copy.deepcopy(samples)
        for s in changed:
            s.gt_masks = 1 - s.gt_masks.clamp(0, 1)  # every mask inverted
            s.labelled = torch.ones_like(s.labelled)
        b = model.predict(data['inputs'], changed)[0].seg_logits
    assert torch.equal(a, b)


def test_faithful_defaults_of_the_paper():
    cfg = load_config(osp.join(CONFIG_DIR, 'r50_camus.py'))
    m = cfg.model
    assert m.neck.embed_dims is None  # ARC at full width C
    head = m.decode_head
    # the pixel decoder reads every encoder level (the last one ARC's), TSF at its width
    assert (head.in_index, head.in_channels, head.input_transform) == \
        ([0, 1, 2, 3], [256, 512, 1024, 2048], 'multiple_select')
    decoder = head.pixel_decoder
    assert decoder.type == 'mmdet.MSDeformAttnPixelDecoder' and head.channels == 256
    assert (decoder.encoder.num_layers, decoder.encoder.layer_cfg.self_attn_cfg.num_levels,
            decoder.encoder.layer_cfg.self_attn_cfg.num_points) == (6, 3, 4)
    assert (head.tsf_level, head.cpr_features) == (0, 'mask')
    assert m.pseudo_labeler.decoder_channels == head.channels
    assert (head.prototypes, head.self_attention, head.static_classifier) == \
        ('per_query', 'separate', False)
    assert head.reference_mode == 'two_pass'
    assert m.pseudo_labeler.fusion == 'cpr'
    assert m.pseudo_labeler.loss_decode.type == 'BCEDiceLoss'
    variant = load_config(osp.join(CONFIG_DIR, 'variants', 'ms_r50_camus.py'))
    vh = variant.model.decode_head
    assert (vh.prototypes, vh.self_attention, vh.static_classifier) == \
        ('per_class', 'joint', True)
    assert vh.pixel_decoder is None
    assert variant.model.pseudo_labeler.fusion == 'reliability'
    nd = load_config(osp.join(CONFIG_DIR, 'variants', 'nd_r50_camus.py'))
    nh = nd.model.decode_head
    assert (nh.pixel_decoder, nh.in_index, nh.in_channels, nh.channels, nh.cpr_features) == \
        (None, 3, 2048, 512, 'fused')
    assert nd.model.pseudo_labeler.decoder_channels == 512
    # the variants train and are evaluated exactly like the faithful model
    for other in (variant, nd):
        for key in ('train_dataloader', 'val_dataloader', 'test_dataloader',
                    'param_scheduler', 'optim_wrapper', 'train_cfg', 'custom_hooks'):
            assert other[key] == cfg[key], key
    for key in ('backbone', 'neck', 'data_preprocessor', 'train_cfg'):
        assert nd.model[key] == m[key], key
