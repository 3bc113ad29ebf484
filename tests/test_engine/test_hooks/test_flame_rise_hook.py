import logging

import pytest
from mmengine.logging import MessageHub
from torch import nn

from echoseg.engine.hooks.flame_rise_hook import (FlameRiseHook, flame_rise_lambda,
                                                  flame_rise_tau)
from echoseg.registry import HOOKS

E0, E1, LMAX, TAU0, TAU1 = 5, 25, 2.0, 0.95, 0.75


class _Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.unsup_weight = -1.0
        self.unsup_threshold = -1.0


class _Runner:
    """The runner state FlameRiseHook reads: iter (restored by resume) and the dataloader."""

    _count = 0

    def __init__(self, iteration, iters_per_epoch=10):
        _Runner._count += 1
        self.iter = iteration
        self.epoch = iteration // iters_per_epoch
        self.train_dataloader = list(range(iters_per_epoch))
        self.model = _Model()
        self.message_hub = MessageHub.get_instance(f'flame_rise_test_{_Runner._count}')
        self.logger = logging.getLogger('flame_rise_test')


def _hook(**kw):
    cfg = dict(type='FlameRiseHook', e0=E0, e1=E1, lambda_max=LMAX, tau0=TAU0, tau1=TAU1)
    cfg.update(kw)
    return HOOKS.build(cfg)


def test_pure_functions_exact_values():
    assert flame_rise_lambda(1, E0, E1, LMAX) == 0.0
    assert flame_rise_lambda(E0, E0, E1, LMAX) == 0.0
    assert flame_rise_lambda((E0 + E1) / 2, E0, E1, LMAX) == pytest.approx(LMAX / 2)
    assert flame_rise_lambda(E1, E0, E1, LMAX) == pytest.approx(LMAX)
    assert flame_rise_lambda(E1 + 10, E0, E1, LMAX) == LMAX
    assert flame_rise_tau(E0, E0, E1, TAU0, TAU1) == TAU0
    assert flame_rise_tau((E0 + E1) / 2, E0, E1, TAU0, TAU1) == pytest.approx((TAU0 + TAU1) / 2)
    assert flame_rise_tau(E1, E0, E1, TAU0, TAU1) == pytest.approx(TAU1)
    assert flame_rise_tau(E1 + 1, E0, E1, TAU0, TAU1) == TAU1
    assert flame_rise_lambda(E0 + 1, E0, E1, LMAX) == pytest.approx(LMAX / (E1 - E0))


@pytest.mark.parametrize('epoch,lam,tau', [
    (1, 0.0, TAU0),
    (E0, 0.0, TAU0),
    ((E0 + E1) // 2, LMAX / 2, (TAU0 + TAU1) / 2),
    (E1, LMAX, TAU1),
    (E1 + 3, LMAX, TAU1),
])
def test_hook_sets_model_and_logs(epoch, lam, tau):
    hook = _hook()
    ipe = 10
    for it in ((epoch - 1) * ipe, (epoch - 1) * ipe + ipe - 1):  # first and last iteration
        runner = _Runner(it, ipe)
        hook.before_train_iter(runner, batch_idx=it % ipe)
        assert runner.model.unsup_weight == pytest.approx(lam)
        assert runner.model.unsup_threshold == pytest.approx(tau)
        assert runner.message_hub.get_scalar('train/flame_lambda').current() == \
            pytest.approx(lam)
        assert runner.message_hub.get_scalar('train/flame_tau').current() == pytest.approx(tau)


def test_same_values_after_simulated_resume():
    ipe = 7
    hook = _hook(granularity='iter')
    uninterrupted = {}
    runner = _Runner(0, ipe)
    for it in range(ipe * 30):
        runner.iter = it
        hook.before_train_iter(runner, it % ipe)
        uninterrupted[it] = (runner.model.unsup_weight, runner.model.unsup_threshold)
    # a fresh process: new hook, new model, only the restored iteration counter
    for it in (0, 37, ipe * E0, ipe * 12 + 3, ipe * 30 - 1):
        resumed = _Runner(it, ipe)
        fresh = _hook(granularity='iter')
        fresh.before_train(resumed)
        assert (resumed.model.unsup_weight, resumed.model.unsup_threshold) == \
            uninterrupted[it]


def test_iter_granularity_is_fractional():
    hook = _hook(granularity='iter', iters_per_epoch=4)
    runner = _Runner(4 * E0 + 2, 100)  # iters_per_epoch overrides the dataloader length
    hook.before_train_iter(runner, 0)
    e = E0 + 1 + 0.5
    assert runner.model.unsup_weight == pytest.approx(LMAX * (e - E0) / (E1 - E0))


def test_reports_once_per_epoch(caplog):
    hook = _hook()
    runner = _Runner(0, 3)
    with caplog.at_level(logging.INFO, logger='flame_rise_test'):
        for it in range(9):
            runner.iter = it
            hook.before_train_iter(runner, it % 3)
    assert sum('FlameRise' in r.message for r in caplog.records) == 3


def test_rejects_bad_arguments():
    with pytest.raises(ValueError):
        FlameRiseHook(e0=10, e1=10)
    with pytest.raises(ValueError):
        FlameRiseHook(granularity='step')
