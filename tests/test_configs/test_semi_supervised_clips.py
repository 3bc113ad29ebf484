"""Every config with a pseudo-labeler trains on clips that have unlabelled frames for it
(SampleClipFrames with more frames than ED and ES, or every frame): a semi-supervised
config whose clips hold only the two labelled frames trains exactly as its supervised
base, whatever its pseudo-labeler."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(p for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
                 if '_base_' not in p and 'method_table' not in p)


def _samplers(loader):
    stack = [loader['dataset']]
    while stack:
        d = stack.pop()
        for step in d.get('pipeline') or []:
            if str(step.get('type')).split('.')[-1] == 'SampleClipFrames':
                yield step
        stack.extend(d.get('datasets') or [])
        if d.get('dataset'):
            stack.append(d['dataset'])


def _semi(path):
    model = Config.fromfile(path).get('model') or {}
    return bool(model.get('pseudo_labeler'))


SEMI = [p for p in CONFIGS if _semi(p)]


def test_semi_supervised_configs_are_found():
    names = {osp.relpath(p, ROOT) for p in SEMI}
    assert len(names) >= 10
    assert {'configs/baselines/selftrain_fcn_r18_synthetic.py',
            'configs/echoforge/mix/cpr_fcn_r18_synthetic.py',
            'configs/echoforge/r18_echonet.py'} <= names
    assert 'configs/baselines/fcn_r18_synthetic.py' not in names


@pytest.mark.parametrize('path', SEMI, ids=lambda p: osp.relpath(p, ROOT))
def test_semi_supervised_clips_have_unlabelled_frames(path):
    samplers = list(_samplers(Config.fromfile(path).train_dataloader))
    assert samplers, f'{path}: no SampleClipFrames in the training pipeline'
    for step in samplers:
        frames = step.get('num_frames', 10)
        assert step.get('mode') == 'all' or step.get('all_frames') or frames > 2, \
            f'{path}: clips of {frames} frames (ED and ES only): nothing to pseudo-label'
