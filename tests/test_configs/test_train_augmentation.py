"""Every training config flips its clips horizontally (RandomClipFlip, p = 0.5, after the
resize), so that mirrored apical views (LV on the left of the image) are learned, unless it
says why not (``no_flip_reason``: the demo's EF model, the few-video recipe, the real-time
model and MSSNet on EchoNet, and EchoForge's paper configs, whose paper lists no flip): then none of
its pipelines flips; no test pipeline flips."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(p for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
                 if '_base_' not in p and 'method_table' not in p)   # protocols, no models


def _types(pipeline):
    return [str(t['type']).split('.')[-1] for t in pipeline]


def _pipelines(loader):
    dataset = loader['dataset']
    stack = [dataset]
    while stack:                                   # wrapped datasets hold their own
        d = stack.pop()
        if d.get('pipeline') is not None:
            yield d['pipeline']
        stack.extend(d.get('datasets') or [])
        if d.get('dataset'):
            stack.append(d['dataset'])


def test_every_config_is_checked():
    assert len(CONFIGS) >= 20
    # the flip-free configs are few and named
    free = [osp.relpath(p, ROOT) for p in CONFIGS if Config.fromfile(p).get('no_flip_reason')]
    echoforge = [osp.relpath(p, ROOT) for p in CONFIGS
                 if osp.relpath(p, ROOT).startswith('configs/echoforge/')
                 and 'synthetic' not in p and '/mix/' not in p]
    assert len(echoforge) == 10   # every EchoForge config on real data, variants included
    assert free == ['configs/baselines/fcn_r18_echonet_synpre.py',
                    'configs/baselines/fcn_r18_echonet_synpre_no_area.py',
                    'configs/baselines/fcn_r18_echonet_synpre_supervised.py',
                    'configs/baselines/fcn_r18_synthetic_ef.py'] + echoforge + [
                    'configs/mssnet/echonet.py', 'configs/realtime/mobilenetv2_causal_echonet.py']


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, ROOT))
def test_training_flips_and_testing_does_not(path):
    cfg = Config.fromfile(path)
    pipelines = list(_pipelines(cfg.train_dataloader))
    assert pipelines, f'{path}: no training pipeline'
    for pipeline in pipelines:
        types = _types(pipeline)
        if cfg.get('no_flip_reason'):
            assert isinstance(cfg.no_flip_reason, str) and len(cfg.no_flip_reason) > 20
            assert 'RandomClipFlip' not in types, f'{path}: says it does not flip, but does'
            continue
        assert 'RandomClipFlip' in types, f'{path}: training pipeline does not flip'
        flip = pipeline[types.index('RandomClipFlip')]
        assert flip.get('prob', 0.5) == 0.5
        assert types.index('RandomClipFlip') > types.index('ResizeClip')
    for key in ('val_dataloader', 'test_dataloader'):
        if cfg.get(key):
            for pipeline in _pipelines(cfg[key]):
                assert 'RandomClipFlip' not in _types(pipeline), f'{path}: {key} flips'
