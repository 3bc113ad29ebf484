"""A training process SIGKILLed while it writes a checkpoint: the previous checkpoint is
still named by last_checkpoint, loads with weights_only=True and --resume continues."""
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import torch

from echoseg.testing import write_tiny_config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
BASELINE = osp.join(ROOT, 'configs', 'baselines', 'fcn_r18_synthetic.py')

#: runs tools/train.py with the checkpoint writer stalled half-way through iter_3.pth
STALLING_LAUNCHER = '''
import os
import runpy
import sys
import time

import echoseg.utils.atomic_io as atomic_io

marker = sys.argv.pop(1)
plain_write = atomic_io._write_all


def stalling_write(f, data):
    if '.iter_3.pth.' in os.readlink(f'/proc/self/fd/{f.fileno()}'):
        f.write(data[:len(data) // 2])
        f.flush()
        open(marker, 'w').close()
        time.sleep(600)  # killed here
    plain_write(f, data)


atomic_io._write_all = stalling_write
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
'''


def _env():
    return dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=ROOT)


def test_kill_during_save_leaves_previous_checkpoint(tmp_path):
    tiny = write_tiny_config(tmp_path, BASELINE, num_videos=8)
    cfg = tmp_path / 'save.py'
    # max_keep_ckpts=1: MMEngine's own hook deletes iter_2.pth before it writes iter_3.pth
    cfg.write_text(f'_base_ = [{tiny!r}]\n'
                   'train_cfg = dict(max_epochs=1, val_begin=100)\n'
                   'default_hooks = dict(checkpoint=dict(by_epoch=False, interval=1, '
                   'max_keep_ckpts=1, save_best=None))\n')
    launcher, marker = tmp_path / 'launch.py', tmp_path / 'stalled'
    launcher.write_text(STALLING_LAUNCHER)
    work = tmp_path / 'work'
    proc = subprocess.Popen([sys.executable, str(launcher), str(marker), 'tools/train.py',
                             str(cfg), '--work-dir', str(work)], cwd=ROOT, env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 300
        while not marker.exists():
            assert proc.poll() is None, proc.stderr.read()[-3000:]
            assert time.time() < deadline, 'the save of iter_3.pth never started'
            time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(60) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()

    partial = [f for f in os.listdir(work) if f.startswith('.iter_3.pth.')]
    assert len(partial) == 1  # the half-written temporary file
    assert not (work / 'iter_3.pth').exists()
    last = (work / 'last_checkpoint').read_text().strip()
    assert last == str(work / 'iter_2.pth')
    ckpt = torch.load(last, weights_only=True)
    assert ckpt['meta']['iter'] == 2 and ckpt['state_dict']
    print(f'killed while writing iter_3.pth: last_checkpoint -> {osp.basename(last)} '
          f'(loads, iteration {ckpt["meta"]["iter"]}); partial file {partial[0]} left aside')

    done = subprocess.run([sys.executable, 'tools/train.py', str(cfg), '--work-dir',
                           str(work), '--resume'], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert 'resumed epoch: 0, iter: 2' in done.stdout + done.stderr
    assert not [f for f in os.listdir(work) if f.endswith('.tmp')]  # cleared on restart
    assert (work / 'last_checkpoint').read_text().strip() == str(work / 'iter_4.pth')
    assert sorted(f for f in os.listdir(work) if f.endswith('.pth')) == ['iter_4.pth']


def test_previous_best_checkpoint_is_deleted_only_after_the_new_one_is_written(tmp_path):
    """MMEngine removes the previous best checkpoint before it writes the new one (a kill
    in between leaves no best checkpoint); the hook keeps it until the new one is on disk.
    The runner is a stand-in that records which files exist when each save starts."""
    from types import SimpleNamespace

    from mmengine.logging import MessageHub, MMLogger

    from echoseg.engine.hooks.atomic_checkpoint_hook import AtomicCheckpointHook
    seen = []

    def save_checkpoint(out_dir, filename, *args, **kwargs):
        seen.append((filename, sorted(os.listdir(out_dir))))
        (tmp_path / filename).write_bytes(b'checkpoint')

    runner = SimpleNamespace(
        work_dir=str(tmp_path), epoch=0, iter=0, save_checkpoint=save_checkpoint,
        message_hub=MessageHub.get_instance('best_order_test'),
        logger=MMLogger.get_instance('best_order_test'))
    hook = AtomicCheckpointHook(interval=1, save_best='mDice', rule='greater')
    hook.before_train(runner)
    for epoch, dice in [(1, 0.5), (2, 0.7), (3, 0.6), (4, 0.9)]:
        runner.epoch = runner.iter = epoch
        hook._save_best_checkpoint(runner, dict(mDice=dice))
    assert [name for name, _ in seen] == ['best_mDice_epoch_1.pth', 'best_mDice_epoch_2.pth',
                                          'best_mDice_epoch_4.pth']
    assert seen[1][1] == ['best_mDice_epoch_1.pth']   # still there while epoch 2 is saved
    assert seen[2][1] == ['best_mDice_epoch_2.pth']
    assert sorted(os.listdir(tmp_path)) == ['best_mDice_epoch_4.pth']
    assert hook.best_ckpt_path == str(tmp_path / 'best_mDice_epoch_4.pth')
