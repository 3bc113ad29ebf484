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
#: largest |w_2proc - w_1proc| over the backbone's and head's weights and BN statistics
#: after 4 AdamW steps at lr 1e-4: float sums in another order (two half batches and an
#: all-reduce) differ by ~1e-7, and Adam's m / sqrt(v) can turn such a difference in a tiny
#: gradient into up to a few percent of lr per step (measured: 3e-6)
WEIGHT_ATOL = 1e-5
GAP_RATIO = 0.02  # measured 0.0037 where max |diff| reached 3e-5
GAP_SHARE = 1e-3  # measured 4e-5


MEMORY_DUMP_HOOK = '''
import os.path as osp

import torch
import torch.distributed as dist
from mmengine.hooks import Hook

from echoseg.registry import HOOKS


@HOOKS.register_module()
class MemoryDumpHook(Hook):
    \"\"\"Each process writes its CPR memory (its memory.* state) at the end of training.\"\"\"

    def after_train(self, runner):
        rank = dist.get_rank() if dist.is_initialized() else 0
        model = getattr(runner.model, 'module', runner.model)
        memory = {k[len('memory.'):]: v for k, v in model.pseudo_labeler.state_dict().items()
                  if k.startswith('memory.')}
        torch.save(memory, osp.join(runner.work_dir, f'memory_rank{rank}.pth'))
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _env():
    # this checkout's echoseg first (tools/ scripts would import an installed one)
    return dict(os.environ, OMP_NUM_THREADS='1', PORT=str(_free_port()),
                PYTHONPATH=f'{ROOT}:{_FOLDER[0]}')


def _run(cmd, **kw):
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env=_env(), **kw)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


_FOLDER = ['']  # the config folder (its test-only hook module is imported from there)


@pytest.fixture(scope='module')
def dist_config(tmp_path_factory):
    """8 training videos (4 iterations of a batch of 4 over two epochs), 5 test videos (an
    odd count: the sampler pads one process, the padding must not be counted)."""
    folder = tmp_path_factory.mktemp('dist')
    _FOLDER[0] = str(folder)
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
                # zero-initialised residual BN scales (mmseg's default) put the first steps
                # on exact ReLU ties, where 1- and 2-process gradients part (measured:
                # step-1 grad norm 0.777 vs 0.577); docs/distributed.md
                "model = dict(backbone=dict(zero_init_residual=False), "
                "decode_head=dict(dropout_ratio=0.0), pseudo_labeler=dict("
                "type='CPRPseudoLabeler', in_channels=64, channels=8, fusion='reliability', "
                # weight 0: CPR writes its memory and trains its own layers, but its pseudo-
                # labels (fused with running reliabilities each process measures on its own
                # half batch) do not reach the shared weights compared below
                "memory_resolution=16), train_cfg=dict(unsup_weight=0.0, "
                "unsup_threshold=0.0))\n"
                "custom_imports = dict(imports=['memory_dump_hook'])\n"
                "custom_hooks = [dict(type='MemoryDumpHook')]\n")
    (folder / 'memory_dump_hook.py').write_text(MEMORY_DUMP_HOOK)
    return folder, path


def _weights(path):
    """The tensors of a checkpoint's state dict (not modules' extra state)."""
    state = torch.load(path, map_location='cpu', weights_only=True)['state_dict']
    return {k: v for k, v in state.items() if torch.is_tensor(v)}


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
    # the segmentation network (backbone, head) must match; CPR's own layers are trained
    # by a loss each process normalises over its half batch (reported, not bounded)
    cpr_gap = max((w1[k].double() - w2[k].double()).abs().max().item() for k in w1
                  if k.startswith('pseudo_labeler.') and w1[k].is_floating_point()
                  and 'reliability' not in k)
    w1, w2 = ({k: v for k, v in w.items() if not k.startswith('pseudo_labeler.')}
              for w in (w1, w2))
    start = _weights(osp.join(one, 'epoch_1.pth'))
    worst = max((w1[k].double() - w2[k].double()).abs().max().item()
                for k in w1 if w1[k].is_floating_point())
    # The optimiser normalises each element's gradient (Adam): where a gradient is near
    # zero, the summation order of another CPU or of the all-reduce turns rounding noise
    # into a step of a fraction of the learning rate, so a few elements may differ by more
    # than WEIGHT_ATOL (3e-5 on one machine). Bounded: the difference as a whole against
    # the last epoch's change (a missing gradient average gives a ratio of order 1) and
    # the share of elements beyond WEIGHT_ATOL.
    keys = [k for k in w1 if w1[k].is_floating_point() and 'running_' not in k]
    gap = torch.cat([(w1[k].double() - w2[k].double()).flatten() for k in keys])
    step = torch.cat([(w1[k].double() - start[k].double()).flatten() for k in keys])
    ratio = (gap.norm() / step.norm()).item()
    moved = step.abs().max().item()
    beyond = (gap.abs() > WEIGHT_ATOL).double().mean().item()
    print(f'2-process vs 1-process weights: max |diff| {worst:.3g}, |diff| / |last '
          f'epoch\'s change| {ratio:.3g} (bound {GAP_RATIO:g}), share of elements beyond '
          f'{WEIGHT_ATOL:g}: {beyond:.3g} (bound {GAP_SHARE:g}); largest weight change over '
          f"the last epoch {moved:.3g}; CPR's own layers differ by up to {cpr_gap:.3g}")
    assert moved > 10 * WEIGHT_ATOL  # training moved the weights far more than the gap
    assert ratio <= GAP_RATIO
    assert beyond <= GAP_SHARE
    for key in w1:
        if 'num_batches_tracked' in key:  # both counted the same 4 iterations
            assert int(w1[key]) == int(w2[key]) == 4

    # CPR's pseudo-label memory: shared (PseudoLabelMemorySyncHook), so both processes
    # hold every video's unlabelled frame, as the single process does
    one_mem = torch.load(osp.join(one, 'memory_rank0.pth'), weights_only=True)
    rank0, rank1 = (torch.load(osp.join(two, f'memory_rank{r}.pth'), weights_only=True)
                    for r in (0, 1))
    assert len(rank0['frame_index']) == len(one_mem['frame_index']) == 8  # 8 videos x 1

    def entries(state):
        names = bytes(state['video_names'].tolist()).decode().split('\0')
        return {(names[v], f): m for v, f, m in zip(state['video_index'].tolist(),
                                                   state['frame_index'].tolist(),
                                                   state['maps'])}

    shared, single, other = entries(rank0), entries(one_mem), entries(rank1)
    assert shared.keys() == other.keys() == single.keys()
    assert all(torch.equal(shared[k], other[k]) for k in shared)
    assert torch.equal(rank0['value_reliability'].sort()[0],
                       rank1['value_reliability'].sort()[0])
    gap = max((shared[k].int() - single[k].int()).abs().max().item() for k in shared)
    print(f'CPR memory: {len(shared)} frames in both processes (identical), same keys '
          f'as one process; largest map difference {gap}/254')


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
    # a few steps at lr 1e-4 still predict background everywhere: sharpen the classifier
    # so that masks, distances and EF are non-trivial numbers to compare
    state = torch.load(ckpt, map_location='cpu', weights_only=True)
    weight = state['state_dict']['decode_head.conv_seg.weight']
    weight.copy_(torch.randn(weight.shape, generator=torch.Generator().manual_seed(0)))
    ckpt = str(folder / 'sharpened.pth')
    torch.save(state, ckpt)
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
    assert 0 < d1['metrics']['mDice'] < 1 and d1['metrics']['mHD95'] is not None
    assert [c['case_id'] for c in d1['ef_cases']] == [c['case_id'] for c in d2['ef_cases']]
    for key, value in d1['metrics'].items():
        assert _same(value, d2['metrics'][key]), (key, value, d2['metrics'][key])
    print('1-process vs 2-process test metrics (all equal): ' + ', '.join(
        f'{k} {d1["metrics"][k]} / {d2["metrics"][k]}'
        for k in ('mDice', 'mHD95', 'EF_MAE', 'num_clips')))
