"""``ResumableEpochBasedTrainLoop``: resume in the middle of an epoch, to the same result."""
from mmengine.runner import EpochBasedTrainLoop

from echoseg.registry import LOOPS
from echoseg.utils.random_state import restore_random_state


@LOOPS.register_module()
class ResumableEpochBasedTrainLoop(EpochBasedTrainLoop):
    """``EpochBasedTrainLoop`` that resumes at the iteration a checkpoint was saved.

    MMEngine's loop restarts a resumed epoch from its first batch while keeping the saved
    iteration count, so a run killed after iteration k of an epoch retrains batches
    0..k-1 of it and ends with other weights. Here the epoch's sampler order is rebuilt
    (same seed and epoch), the k batches are loaded and discarded (which keeps data-loader
    workers' generators in step with the first run) and the random state saved with the
    checkpoint (``RandomStateHook``) is restored before batch k is loaded. With
    ``randomness.deterministic=True`` the resumed run then ends with the weights of the
    uninterrupted run (docs/checkpoints.md lists the conditions). Arguments are
    ``EpochBasedTrainLoop``'s.
    """

    #: set by RandomStateHook on resume; restored once the loader has caught up
    pending_random_state = None

    def _restore_random_state(self) -> None:
        if self.pending_random_state is not None:
            restore_random_state(self.pending_random_state)
            self.pending_random_state = None

    def run_epoch(self) -> None:
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        done = max(0, self._iter - self._epoch * len(self.dataloader))
        if done == 0:  # a fresh epoch: the state is that of the epoch's end
            self._restore_random_state()
        batches = iter(self.dataloader)
        for _ in range(done):
            next(batches)
        self._restore_random_state()
        for idx in range(done, len(self.dataloader)):
            self.run_iter(idx, next(batches))
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1
