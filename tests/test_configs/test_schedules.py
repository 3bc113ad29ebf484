"""The schedules in configs/_base_/schedules/ step their learning rate every iteration.

Each schedule trains a tiny model for one epoch through MMEngine's Runner (its own
ParamSchedulerHook and ``convert_to_iter_based``); the learning rate logged before every
iteration is compared with the decay computed here from the schedule's numbers.
"""
import glob
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config

from echoseg.testing import write_tiny_config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCHEDULES = sorted(glob.glob(osp.join(ROOT, 'configs', '_base_', 'schedules', '*.py')))
ITERS_PER_EPOCH = 22          # > the 20-iteration warm-up of schedule_synthetic


def expected_lrs(schedulers, lr0, epoch_length, num_iters):
    """The lr used at iterations 0..num_iters-1 by MMEngine's chained schedulers.

    Iteration-based bounds are ``begin``/``end`` (epochs x ``epoch_length`` when converted).
    A scheduler active at global step k (begin <= k < end) with j = k - begin steps taken:
    LinearLR scales the lr by f_j / f_{j-1}, f_j = s + (e - s) * min(j, N) / N; PolyLR maps
    lr -> eta + (lr - eta) * ((K - j) / (K - j + 1))^p; N = K = end - begin - 1. At j = 0
    LinearLR multiplies by s and PolyLR leaves the lr. With PolyLR alone this is
    lr_k = eta + (lr0 - eta) * (1 - k / K)^p.
    """
    bounds = []
    for s in schedulers:
        scale = epoch_length if s.get('by_epoch', True) else 1
        bounds.append((int(s.get('begin', 0) * scale), int(s['end'] * scale)))
    lr, out = lr0, []
    for k in range(num_iters):
        for s, (begin, end) in zip(schedulers, bounds):
            if not begin <= k < end:
                continue
            j, total = k - begin, end - begin - 1
            if s['type'] == 'LinearLR':
                start, stop = s.get('start_factor', 1 / 3), s.get('end_factor', 1.0)

                def factor(i):
                    return start + (stop - start) * min(i, total) / total

                lr = lr * (start if j == 0 else factor(j) / factor(j - 1))
            elif s['type'] == 'PolyLR':
                eta, power = s.get('eta_min', 0.0), s.get('power', 1.0)
                if j > 0:
                    lr = eta + (lr - eta) * ((total - j) / (total - j + 1)) ** power
            else:
                raise AssertionError(f'no formula for {s["type"]} in this test: add it')
        out.append(lr)
    return np.array(out)


@pytest.mark.parametrize('path', SCHEDULES, ids=[osp.basename(p) for p in SCHEDULES])
def test_schedule_decays_every_iteration(path, tmp_path):
    from mmengine.runner import Runner
    schedule = Config.fromfile(path)
    epoch_based = [s for s in schedule.param_scheduler if s.get('by_epoch', True)]
    assert epoch_based and all(s.get('convert_to_iter_based') for s in epoch_based)

    base = tmp_path / 'base.py'
    parts = (osp.join('models', 'fcn_r18.py'), osp.join('datasets', 'synthetic.py'),
             'default_runtime.py', osp.join('schedules', osp.basename(path)))
    base.write_text(f'_base_ = {[osp.join(ROOT, "configs", "_base_", p) for p in parts]!r}\n')
    cfg = Config.fromfile(write_tiny_config(str(tmp_path), str(base),
                                            num_videos=ITERS_PER_EPOCH))
    cfg.work_dir = str(tmp_path / 'work')
    cfg.train_dataloader.batch_size = 1
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1)    # the decay keeps its end
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.test_dataloader = cfg.test_cfg = cfg.test_evaluator = None
    cfg.default_hooks.checkpoint = None
    cfg.experiment_name = f'sched_{osp.basename(path)[:-3]}_{os.getpid()}'
    cfg.visualizer = dict(cfg.visualizer, name=cfg.experiment_name)
    runner = Runner.from_cfg(cfg)
    runner.train()
    logged = np.asarray(runner.message_hub.get_scalar('train/lr').data[0], dtype=np.float64)

    lr0 = schedule.optim_wrapper.optimizer.lr
    expected = expected_lrs(schedule.param_scheduler, lr0, ITERS_PER_EPOCH, ITERS_PER_EPOCH)
    assert len(logged) == ITERS_PER_EPOCH
    np.testing.assert_allclose(logged, expected, rtol=1e-9, atol=0)
    # the lr moves within the first epoch (per-epoch stepping would keep it constant)
    assert len(np.unique(logged)) == ITERS_PER_EPOCH
    polys = [s for s in schedule.param_scheduler if s['type'] == 'PolyLR']
    if len(schedule.param_scheduler) == 1 and polys:     # the closed form, term by term
        poly = polys[0]
        total = poly['end'] * ITERS_PER_EPOCH - 1
        k = np.arange(ITERS_PER_EPOCH)
        closed = poly['eta_min'] + (lr0 - poly['eta_min']) * (1 - k / total) ** poly['power']
        np.testing.assert_allclose(logged, closed, rtol=1e-9, atol=0)
        assert np.all(np.diff(logged) < 0)
