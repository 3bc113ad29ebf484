"""tools/dist_train.sh and tools/dist_test.sh on CPU (torchrun, gloo): two processes train
the model one process trains with the same total batch, and evaluate every test clip once
to the same metrics (docs/distributed.md)."""
import json
import math
import os
import os.path as osp
import re
import socket
import subprocess
import sys

import pytest
import torch

from echoseg.testing import write_tiny_config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASELINE = osp.join(ROOT, 'configs', 'baselines', 'fcn_r18_synthetic.py')
#: largest |w_2proc - w_1proc| over every weight after 4 AdamW steps (lr <= 1e-4): float
#: sums in another order (two half batches + all-reduce) differ by ~1e-7 per step, and
#: Adam's m / sqrt(v) keeps such differences at the scale of lr * 1e-3
WEIGHT_ATOL = 1e-5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _env():
    # this checkout's echoseg first (tools/ scripts would import an installed one)
    return dict(os.environ, OMP_NUM_THREADS='1', PORT=str(_free_port()), PYTHONPATH=ROOT)


def _run(cmd, **kw):
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env=_env(), **kw)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope='module')
def dist_config(tmp_path_factory):
    """8 training videos (4 iterations of a batch of 4 over two epochs), 5 test videos (an
    odd count: the sampler pads one process, the padding must not be counted)."""
    folder = tmp_path_factory.mktemp('dist')
    tiny = write_tiny_config(folder, BASELINE, num_videos=8)
    path = osp.join(str(folder), 'dist.py')
    with open(path, 'w') as f:
        f.write(f'_base_ = [{tiny!r}]\n'
                "train_cfg = dict(max_epochs=2, val_begin=100)\n"
                "test_dataloader = dict(dataset=dict(num_videos=5, seed=7))\n"
                "param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]\n"
                "optim_wrapper = dict(optimizer=dict(lr=1e-4))\n"
                # dropout draws its masks per process: one process draws for 4 clips, two
                # draw the same masks for 2 each
                "model = dict(decode_head=dict(dropout_ratio=0.0))\n")
    return folder, path


def _weights(path):
    return torch.load(path, map_location='cpu', weights_only=True)['state_dict']


def test_two_process_training_matches_one_process(dist_config):
    folder, cfg = dist_config
    one, two = str(folder / 'one'), str(folder / 'two')
    _run([sys.executable, 'tools/train.py', cfg, '--work-dir', one, '--cfg-options',
          'train_dataloader.batch_size=4'])
    proc = _run(['bash', 'tools/dist_train.sh', cfg, '2', '--work-dir', two, '--cfg-options',
                 'train_dataloader.batch_size=2', 'sync_bn=torch'])
    assert 'SyncBatchNorm layer(s) synchronised' in proc.stdout + proc.stderr
    w1, w2 = _weights(osp.join(one, 'epoch_2.pth')), _weights(osp.join(two, 'epoch_2.pth'))
    assert w1.keys() == w2.keys()
    start = _weights(osp.join(one, 'epoch_1.pth'))
    worst = max((w1[k].double() - w2[k].double()).abs().max().item()
                for k in w1 if w1[k].is_floating_point())
    moved = max((w1[k].double() - start[k].double()).abs().max().item()
                for k in w1 if w1[k].is_floating_point())
    print(f'2-process vs 1-process weights: max |diff| {worst:.3g} (tolerance '
          f'{WEIGHT_ATOL:g}); largest change over the last epoch {moved:.3g}')
    assert moved > 100 * WEIGHT_ATOL  # training moved the weights far more than the gap
    assert worst <= WEIGHT_ATOL
    for key in w1:
        if 'num_batches_tracked' in key:  # both counted the same 4 iterations
            assert int(w1[key]) == int(w2[key]) == 4


def _dump(out):
    with open(osp.join(out, 'echo_metric_results.json')) as f:
        data = json.load(f)
    data['metrics'] = {k: v for k, v in data['summary'].items() if k != 'settings'}
    return data


def _same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9,
                                                                 abs_tol=1e-12)
    return a == b


def test_two_process_test_equals_one_process(dist_config):
    folder, cfg = dist_config
    ckpt = osp.join(folder, 'one', 'epoch_2.pth')
    if not osp.isfile(ckpt):  # this test alone: train one epoch quickly
        _run([sys.executable, 'tools/train.py', cfg, '--work-dir', str(folder / 'one'),
              '--cfg-options', 'train_cfg.max_epochs=1'])
        ckpt = osp.join(folder, 'one', 'epoch_1.pth')
    out1, out2 = str(folder / 'test1'), str(folder / 'test2')
    _run([sys.executable, 'tools/test.py', cfg, ckpt, '--out', out1, '--work-dir', out1])
    proc = _run(['bash', 'tools/dist_test.sh', cfg, ckpt, '2', '--out', out2, '--work-dir',
                 out2])
    # the metric table is printed by rank 0 only
    assert len(re.findall(r'^mDice\s+\d', proc.stdout, flags=re.M)) == 1
    d1, d2 = _dump(out1), _dump(out2)
    ids1 = [c['video_id'] for c in d1['clips']]
    ids2 = [c['video_id'] for c in d2['clips']]
    assert len(ids1) == 5 and sorted(ids2) == sorted(ids1)  # each clip exactly once
    assert d1['metrics']['num_clips'] == d2['metrics']['num_clips'] == 5
    assert [c['case_id'] for c in d1['ef_cases']] == [c['case_id'] for c in d2['ef_cases']]
    for key, value in d1['metrics'].items():
        assert _same(value, d2['metrics'][key]), (key, value, d2['metrics'][key])
    print('1-process vs 2-process test metrics: ' + ', '.join(
        f'{k} {d1["metrics"][k]:.4f} / {d2["metrics"][k]:.4f}'
        for k in ('mDice', 'mHD95', 'EF_MAE', 'num_clips')))
