"""SIGKILL, then --resume: the same final weights and validation metrics as the
uninterrupted run (CPU, deterministic mode, random augmentations and dropout on, validation
after every epoch), docs/checkpoints.md. One uninterrupted run is shared by the tests."""
import glob
import json
import os.path as osp
import signal

import pytest
import torch

from echoseg.testing import (best_checkpoint_random_states, differing_weights, run_train_tool,
                             train_with_kills, train_without_validation, write_derived_config,
                             write_sigkill_config, write_tiny_config)
from echoseg.utils.random_state import random_states_equal

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
BASELINE = osp.join(ROOT, 'configs', 'baselines', 'fcn_r18_synthetic.py')


def _config(folder):
    """8 videos in batches of 2 (4 iterations per epoch), 3 epochs, validation and a
    checkpoint after every epoch (all kept, and the best one); random
    gamma/contrast/scale/rotation and dropout draw random numbers in every iteration."""
    tiny = write_tiny_config(folder, BASELINE, num_videos=8, augment=True)
    return write_derived_config(
        folder, 'resume.py', tiny,
        'train_cfg = dict(max_epochs=3, val_interval=1)\n'
        'randomness = dict(seed=3, deterministic=True)\n'
        'default_hooks = dict(checkpoint=dict(by_epoch=True, interval=1, '
        "max_keep_ckpts=-1, save_best='mDice', rule='greater'))\n"
        'optim_wrapper = dict(optimizer=dict(lr=3e-3))\n')


@pytest.fixture(scope='module')
def full(tmp_path_factory):
    """The uninterrupted run: its config and work dir."""
    folder = tmp_path_factory.mktemp('epoch_resume')
    cfg = _config(folder)
    work = str(folder / 'full')
    run_train_tool(cfg, work)
    return cfg, work


def _val_rows(work_dir):
    """The validation metrics logged, in order (a resumed run logs into a new folder)."""
    rows = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            rows += [json.loads(line) for line in f if '"mDice"' in line]
    return rows


def test_sigkill_mid_epoch_then_resume_equals_uninterrupted(full, tmp_path):
    """Checkpoints every 3 iterations: killed in epoch 2, resumed from the middle of epoch
    1, the resumed run validates epoch 1 again on its way."""
    cfg, full_dir = full
    mid = write_derived_config(tmp_path, 'mid.py', cfg, 'default_hooks = dict(checkpoint='
                               'dict(by_epoch=False, interval=3, max_keep_ckpts=1, '
                               'save_best=None))\n')
    broken = str(tmp_path / 'broken')
    proc = run_train_tool(write_sigkill_config(tmp_path, 'killed.py', mid, at=5), broken,
                          expect=-signal.SIGKILL, extra_path=[tmp_path])
    assert 'SIGKILL in train after iteration 5 (epoch 1)' in proc.stdout  # epoch 2, batch 2
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
    run_train_tool(mid, broken, '--resume')
    run_train_tool(mid, str(control), '--resume', str(control / 'iter_3.pth'))

    final = osp.join(full_dir, 'epoch_3.pth')
    assert not differing_weights(final, osp.join(broken, 'iter_12.pth'))
    assert not osp.exists(osp.join(broken, 'iter_3.pth'))  # max_keep_ckpts=1
    assert differing_weights(final, str(control / 'iter_12.pth'))
    m1, m2 = _val_rows(full_dir)[-1], _val_rows(broken)[-1]
    assert m1['step'] == m2['step'] == 3
    assert m1.keys() == m2.keys()
    for key in m1:
        if key in ('time', 'data_time'):
            continue
        same = m1[key] == m2[key] or (m1[key] != m1[key] and m2[key] != m2[key])  # nan
        assert same, (key, m1[key], m2[key])


def test_sigkill_after_epoch_checkpoints_then_resume_equals_uninterrupted(full, tmp_path):
    """Checkpoints after every epoch, before its validation. Killed mid-epoch 2 (resumes
    from epoch_1.pth), killed again in the validation right after epoch_2.pth is written
    (resumes from it): neither resumed run repeats the validation that followed its
    checkpoint in the uninterrupted run, and both continue the uninterrupted run's
    weights."""
    cfg, full_dir = full
    work = str(tmp_path / 'work')
    (out1, last1), (out2, last2) = train_with_kills(cfg, work, tmp_path,
                                                    [(6, 'train'), (8, 'val')])
    assert 'SIGKILL in train after iteration 6 (epoch 1)' in out1  # epoch 2, batch 3
    assert last1.endswith('epoch_1.pth')
    assert 'SIGKILL in val after iteration 8 (epoch 2)' in out2
    assert last2.endswith('epoch_2.pth')
    for name in ('epoch_2.pth', 'epoch_3.pth'):  # after the first resume, after the second
        assert not differing_weights(osp.join(full_dir, name), osp.join(work, name)), name


def test_best_checkpoint_holds_the_training_random_state(full):
    """save_best writes in after_val_epoch, while validation runs: the state it stores is
    the one the epoch's checkpoint (written before the validation) stores."""
    assert random_states_equal(*best_checkpoint_random_states(full[-1]))


def test_validation_does_not_change_the_trained_weights(full, tmp_path):
    """Validation after every epoch or none at all: the same weights."""
    cfg, full_dir = full
    work = str(tmp_path / 'no_val')
    train_without_validation(cfg, work, tmp_path)
    assert not _val_rows(work) and len(_val_rows(full_dir)) == 3
    assert not differing_weights(osp.join(full_dir, 'epoch_3.pth'), osp.join(work, 'epoch_3.pth'))
