"""SIGKILL in the middle of an epoch, then --resume: the same final weights and validation
metrics as the uninterrupted run (CPU, deterministic mode, random augmentations and dropout
on), docs/checkpoints.md."""
import glob
import json
import os
import os.path as osp
import signal
import subprocess
import sys

import torch

from echoseg.testing import write_tiny_config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
BASELINE = osp.join(ROOT, 'configs', 'baselines', 'fcn_r18_synthetic.py')

KILLER = '''
import os
import signal

from mmengine.hooks import Hook

from echoseg.registry import HOOKS


@HOOKS.register_module()
class SigkillAtIterHook(Hook):
    """Kills its own process (SIGKILL: no handler, no clean-up) before iteration ``at``."""

    def __init__(self, at):
        self.at = at

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter == self.at:
            print(f'SIGKILL at iteration {runner.iter} (epoch {runner.epoch + 1}, batch '
                  f'{batch_idx + 1})', flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
'''


def _config(folder):
    """8 videos in batches of 2 (4 iterations per epoch), 2 epochs, checkpoints every 3
    iterations; random gamma/contrast/scale/rotation and dropout draw random numbers in
    every iteration."""
    tiny = write_tiny_config(folder, BASELINE, num_videos=8)
    path = osp.join(str(folder), 'resume.py')
    with open(path, 'w') as f:
        f.write(
            f'_base_ = [{tiny!r}]\n'
            "train_dataloader = dict(dataset=dict(pipeline=[dict(type='LoadEchoVideo'), "
            "dict(type='LoadEchoAnnotations'), dict(type='SampleClipFrames', num_frames=3), "
            "dict(type='RandomClipGamma', prob=0.5), dict(type='RandomClipContrast', "
            "prob=0.5), dict(type='RandomClipScale', prob=0.5), "
            "dict(type='RandomClipRotation', prob=0.5), dict(type='PackEchoInputs')]))\n"
            'train_cfg = dict(max_epochs=2, val_interval=1)\n'
            'randomness = dict(seed=3, deterministic=True)\n'
            'default_hooks = dict(checkpoint=dict(by_epoch=False, interval=3, '
            'max_keep_ckpts=1, save_best=None))\n'
            'model = dict(decode_head=dict(dropout_ratio=0.5))\n'
            'optim_wrapper = dict(optimizer=dict(lr=3e-3))\n')
    return path


def _train(cfg, work_dir, *extra, check=True, env_extra=None):
    # this checkout's echoseg first (tools/ scripts would import an installed one)
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=ROOT)
    env.update(env_extra or {})
    proc = subprocess.run([sys.executable, 'tools/train.py', cfg, '--work-dir', work_dir,
                           *extra], cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env=env)
    if check:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def _val_metrics(work_dir):
    """The validation metrics logged last (the resumed run logs into a new folder)."""
    rows = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            rows += [json.loads(line) for line in f if '"mDice"' in line]
    return rows[-1]


def test_sigkill_mid_epoch_then_resume_equals_uninterrupted(tmp_path):
    cfg = _config(tmp_path)
    (tmp_path / 'sigkill_hook.py').write_text(KILLER)
    killed_cfg = tmp_path / 'killed.py'
    killed_cfg.write_text(f"_base_ = [{cfg!r}]\n"
                          "custom_imports = dict(imports=['sigkill_hook'])\n"
                          "custom_hooks = [dict(type='SigkillAtIterHook', at=5)]\n")
    full, broken = str(tmp_path / 'full'), str(tmp_path / 'broken')
    _train(cfg, full)
    proc = _train(str(killed_cfg), broken, check=False,
                  env_extra=dict(PYTHONPATH=f'{ROOT}:{tmp_path}'))
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    assert 'SIGKILL at iteration 5 (epoch 2, batch 2)' in proc.stdout
    with open(osp.join(broken, 'last_checkpoint')) as f:
        assert f.read().strip().endswith('iter_3.pth')  # mid-epoch 1: 3 of its 4 batches
    # the control: the same checkpoint without its random state (as MMEngine saves it)
    # resumes to other weights, so the equality below is not vacuous
    control = tmp_path / 'control'
    control.mkdir()
    ckpt = torch.load(osp.join(broken, 'iter_3.pth'), weights_only=True)
    assert ckpt['random_state']['torch'].dtype == torch.uint8  # plain tensors
    del ckpt['random_state']
    torch.save(ckpt, control / 'iter_3.pth')
    _train(cfg, broken, '--resume')
    _train(cfg, str(control), '--resume', str(control / 'iter_3.pth'))

    final_full = torch.load(osp.join(full, 'iter_8.pth'), weights_only=True)
    final_resumed = torch.load(osp.join(broken, 'iter_8.pth'), weights_only=True)
    w1, w2 = final_full['state_dict'], final_resumed['state_dict']
    assert w1.keys() == w2.keys()
    different = [k for k in w1 if not torch.equal(w1[k], w2[k])]
    assert not different, different
    assert not osp.exists(osp.join(broken, 'iter_3.pth'))  # max_keep_ckpts=1
    w3 = torch.load(control / 'iter_8.pth', weights_only=True)['state_dict']
    assert any(not torch.equal(w1[k], w3[k]) for k in w1)
    m1, m2 = _val_metrics(full), _val_metrics(broken)
    assert m1['step'] == m2['step'] == 2
    assert m1.keys() == m2.keys()
    for key in m1:
        if key in ('time', 'data_time'):
            continue
        same = m1[key] == m2[key] or (m1[key] != m1[key] and m2[key] != m2[key])  # nan
        assert same, (key, m1[key], m2[key])
    print(f"uninterrupted vs killed at iteration 5 + resumed from iteration 3: all "
          f"{len(w1)} tensors equal; val mDice {m1['mDice']} / {m2['mDice']}")
