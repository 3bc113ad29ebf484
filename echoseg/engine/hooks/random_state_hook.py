"""``RandomStateHook``: the generators' state in every checkpoint, back on resume, and
untouched by validation."""
import logging

from mmengine.hooks import Hook
from mmengine.logging import print_log

from echoseg.registry import HOOKS
from echoseg.utils.random_state import capture_random_state, restore_random_state


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Saves the global random generators' state (``echoseg.utils.random_state``) in each
    checkpoint under ``'random_state'``, hands it back on ``--resume``, and keeps validation
    and testing from moving it.

    Validation between epochs or iterations draws random numbers (a data-loader iterator
    takes its base seed from torch's generator, a model or transform may draw more), so
    without care the training after it would start from another stream than the one saved
    in the checkpoint just before it, and the trained model would depend on how often it is
    validated. Here ``before_val``/``before_test`` capture the state and
    ``after_val``/``after_test`` put it back: the training continues from where it was, and
    a checkpoint saved meanwhile (``save_best`` in ``after_val_epoch``, and MMEngine's
    second save of the step's regular checkpoint when the best score improves) stores that
    captured training state, not the one validation has reached. (Datasets and transforms
    that hold their own generators are separate objects for training and validation.)

    The resumable train loops (``ResumableEpochBasedTrainLoop``,
    ``ResumableIterBasedTrainLoop``, which ``utils.config.load_config`` selects) restore a
    resumed checkpoint's state after they have fast-forwarded the data loader past the
    iterations already trained, i.e. exactly where the interrupted run saved it; with
    another loop it is restored at once. Loading weights with ``load_from`` (not a resume)
    leaves the generators alone. In distributed training the checkpoint holds rank 0's
    state and every process gets it.
    """

    priority = 'NORMAL'  # before PlainCheckpointHook (VERY_LOW) converts the dict

    def __init__(self) -> None:
        #: the training's state while a validation or test loop runs, else None
        self.held_state = None

    def _hold(self) -> None:
        if self.held_state is None:
            self.held_state = capture_random_state()

    def _release(self) -> None:
        if self.held_state is not None:
            restore_random_state(self.held_state)
            self.held_state = None

    def before_val(self, runner) -> None:
        self._hold()

    def after_val(self, runner) -> None:
        self._release()

    def before_test(self, runner) -> None:
        self._hold()

    def after_test(self, runner) -> None:
        self._release()

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['random_state'] = (capture_random_state() if self.held_state is None
                                      else self.held_state)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('random_state')
        if state is None or not getattr(runner, '_resume', False):
            return
        loop = runner.train_loop
        if hasattr(loop, 'pending_random_state'):
            loop.pending_random_state = state
        else:
            restore_random_state(state)
            print_log(f'{type(loop).__name__} cannot restore the random state after its '
                      'data-loader fast-forward: restored now, so the resumed run may draw '
                      'other random numbers than the uninterrupted one', logger='current',
                      level=logging.WARNING)
