"""``RandomStateHook``: the generators' state in every checkpoint, back on resume."""
import logging

from mmengine.hooks import Hook
from mmengine.logging import print_log

from echoseg.registry import HOOKS
from echoseg.utils.random_state import capture_random_state, restore_random_state


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Saves the global random generators' state (``echoseg.utils.random_state``) in each
    checkpoint under ``'random_state'`` and hands it back on ``--resume``.

    The resumable train loops (``ResumableEpochBasedTrainLoop``,
    ``ResumableIterBasedTrainLoop``, which ``utils.config.load_config`` selects) restore it
    after they have fast-forwarded the data loader past the iterations already trained,
    i.e. exactly where the interrupted run saved it; with another loop it is restored at
    once. Loading weights with ``load_from`` (not a resume) leaves the generators alone.
    In distributed training the checkpoint holds rank 0's state and every process gets it.
    """

    priority = 'NORMAL'  # before PlainCheckpointHook (VERY_LOW) converts the dict

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['random_state'] = capture_random_state()

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
