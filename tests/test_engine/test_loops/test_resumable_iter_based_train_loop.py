"""Iteration-based training validated every 4 iterations, SIGKILLed and resumed: the
uninterrupted run's weights (CPU, deterministic mode, random augmentations and dropout on),
docs/checkpoints.md. One uninterrupted run is shared by the tests."""
import glob
import os.path as osp

import pytest

from echoseg.testing import (best_checkpoint_random_states, differing_weights, run_train_tool,
                             train_with_kills, train_without_validation, write_derived_config,
                             write_tiny_config)
from echoseg.utils.random_state import random_states_equal

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
BASELINE = osp.join(ROOT, 'configs', 'baselines', 'fcn_r18_synthetic.py')


@pytest.fixture(scope='module')
def full(tmp_path_factory):
    """The uninterrupted run (12 iterations, validation and a checkpoint every 4, before
    the validation; the best one too): its config and work dir."""
    folder = tmp_path_factory.mktemp('iter_resume')
    tiny = write_tiny_config(folder, BASELINE, num_videos=6, augment=True)
    cfg = write_derived_config(
        folder, 'iter.py', tiny,
        "train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=12, "
        'val_interval=4)\n'
        "train_dataloader = dict(sampler=dict(_delete_=True, type='InfiniteSampler', "
        'shuffle=True))\n'
        "param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, "
        "begin=0, end=4), dict(type='PolyLR', eta_min=1e-6, power=0.9, begin=0, end=12, "
        'by_epoch=False)]\n'
        'log_processor = dict(by_epoch=False)\n'
        'randomness = dict(seed=5, deterministic=True)\n'
        'default_hooks = dict(checkpoint=dict(by_epoch=False, interval=4, '
        "max_keep_ckpts=-1, save_best='mDice', rule='greater'))\n"
        'optim_wrapper = dict(optimizer=dict(lr=3e-3))\n')
    work = str(folder / 'full')
    run_train_tool(cfg, work)
    return cfg, work


def test_sigkill_between_and_at_checkpoints_then_resume_equals_uninterrupted(full, tmp_path):
    """Killed at iteration 6 (resumes from iter_4.pth, written before the validation at
    4), then in the validation right after iter_8.pth (resumes from it): both resumed runs
    continue the uninterrupted run's weights."""
    cfg, full_dir = full
    work = str(tmp_path / 'work')
    (out1, last1), (out2, last2) = train_with_kills(cfg, work, tmp_path,
                                                    [(6, 'train'), (8, 'val')])
    assert 'SIGKILL in train after iteration 6' in out1 and last1.endswith('iter_4.pth')
    assert 'SIGKILL in val after iteration 8' in out2 and last2.endswith('iter_8.pth')
    for name in ('iter_8.pth', 'iter_12.pth'):  # after the first resume, after the second
        assert not differing_weights(osp.join(full_dir, name), osp.join(work, name)), name


def test_best_checkpoint_holds_the_training_random_state(full):
    """The best checkpoint, written during the validation, stores the state of the
    checkpoint written just before it."""
    assert random_states_equal(*best_checkpoint_random_states(full[-1]))


def test_validation_does_not_change_the_trained_weights(full, tmp_path):
    """Validation every 4 iterations or none at all: the same weights."""
    cfg, full_dir = full
    work = str(tmp_path / 'no_val')
    train_without_validation(cfg, work, tmp_path)
    assert not glob.glob(osp.join(work, 'best_*.pth'))
    assert not differing_weights(osp.join(full_dir, 'iter_12.pth'), osp.join(work, 'iter_12.pth'))
