"""EchoForge's FlameRise schedule of the unsupervised loss (paper sec. 3.3, eqs 7-8).

    lambda(e) = 0                                     e <= E0
                lambda_max (e - E0) / (E1 - E0)       E0 < e <= E1            (eq. 7)
                lambda_max                            e > E1
    tau(e)    = tau0                                  e <= E0
                tau0 - (tau0 - tau1) (e - E0) / (E1 - E0)   E0 < e <= E1      (eq. 8)
                tau1                                  e > E1

``e`` is the 1-based epoch. The hook derives it from ``runner.iter`` only (the iteration
about to run, restored by ``Runner.resume``) and the iterations per epoch
(``len(runner.train_dataloader)`` unless ``iters_per_epoch`` is given), so a resumed run
sees exactly the values of an uninterrupted one and iteration-based loops work too:

- ``granularity='epoch'`` (default, the paper's integer epochs):
  ``e = runner.iter // iters_per_epoch + 1``;
- ``granularity='iter'`` (a smooth ramp): ``e = runner.iter / iters_per_epoch + 1``.
"""
from typing import Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from echoseg.registry import HOOKS


def _ramp(e: float, e0: float, e1: float) -> float:
    if e <= e0:
        return 0.0
    if e > e1:
        return 1.0
    return (e - e0) / (e1 - e0)


def flame_rise_lambda(e: float, e0: float, e1: float, lambda_max: float) -> float:
    """Eq. 7: the weight of the unsupervised loss at (1-based) epoch ``e``."""
    return lambda_max * _ramp(e, e0, e1)


def flame_rise_tau(e: float, e0: float, e1: float, tau0: float, tau1: float) -> float:
    """Eq. 8: the pseudo-label confidence threshold at (1-based) epoch ``e``."""
    return tau0 - (tau0 - tau1) * _ramp(e, e0, e1)


@HOOKS.register_module()
class FlameRiseHook(Hook):
    """Sets ``model.unsup_weight`` = lambda(e) and ``model.unsup_threshold`` = tau(e)
    before every training iteration (eqs 7-8), logs both as ``train/flame_lambda`` and
    ``train/flame_tau`` and reports them once per epoch.

    Args:
        e0: burn-in epoch E0 (no pseudo-labels up to and including it).
        e1: end of the ramp E1 (> E0).
        lambda_max: the final unsupervised weight.
        tau0, tau1: initial and final confidence thresholds.
        granularity: 'epoch' (integer epochs, as the paper) or 'iter' (fractional).
        iters_per_epoch: overrides ``len(runner.train_dataloader)``.
    """

    priority = 'NORMAL'

    def __init__(self, e0: float = 5, e1: float = 30, lambda_max: float = 1.0,
                 tau0: float = 0.95, tau1: float = 0.8, granularity: str = 'epoch',
                 iters_per_epoch: Optional[int] = None):
        if e1 <= e0:
            raise ValueError(f'FlameRiseHook: e1 ({e1}) must be greater than e0 ({e0})')
        if granularity not in ('epoch', 'iter'):
            raise ValueError(f"FlameRiseHook: granularity must be 'epoch' or 'iter', "
                             f'got {granularity!r}')
        self.e0, self.e1 = float(e0), float(e1)
        self.lambda_max = float(lambda_max)
        self.tau0, self.tau1 = float(tau0), float(tau1)
        self.granularity = granularity
        self.iters_per_epoch = iters_per_epoch
        self._last_reported = None

    def epoch_of(self, runner) -> float:
        """The 1-based epoch e of the iteration ``runner.iter`` is about to run."""
        ipe = self.iters_per_epoch or len(runner.train_dataloader)
        ipe = max(int(ipe), 1)
        if self.granularity == 'epoch':
            return float(runner.iter // ipe + 1)
        return runner.iter / ipe + 1.0

    def values(self, e: float):
        return (flame_rise_lambda(e, self.e0, self.e1, self.lambda_max),
                flame_rise_tau(e, self.e0, self.e1, self.tau0, self.tau1))

    def apply(self, runner) -> None:
        e = self.epoch_of(runner)
        lam, tau = self.values(e)
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        model.unsup_weight = lam
        model.unsup_threshold = tau
        runner.message_hub.update_scalar('train/flame_lambda', lam)
        runner.message_hub.update_scalar('train/flame_tau', tau)
        epoch_index = int(e)
        if epoch_index != self._last_reported:
            self._last_reported = epoch_index
            runner.logger.info(f'FlameRise: epoch {e:g}: unsup_weight (lambda) = {lam:.4f}, '
                               f'unsup_threshold (tau) = {tau:.4f}')

    def before_train(self, runner) -> None:
        self.apply(runner)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self.apply(runner)
