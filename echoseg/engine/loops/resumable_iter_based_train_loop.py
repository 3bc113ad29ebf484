"""``ResumableIterBasedTrainLoop``: iteration-based training that resumes to the same result."""
import logging

from mmengine.logging import print_log
from mmengine.runner import IterBasedTrainLoop

from echoseg.registry import LOOPS
from echoseg.utils.random_state import restore_random_state


@LOOPS.register_module()
class ResumableIterBasedTrainLoop(IterBasedTrainLoop):
    """``IterBasedTrainLoop`` that restores the saved random state after the fast-forward.

    MMEngine's loop already skips the batches trained before a resume (the infinite
    sampler replays the same order); the random state saved with the checkpoint
    (``RandomStateHook``) is put back after that skip, before the first new batch is loaded,
    so a resumed run draws the numbers the uninterrupted run drew. Arguments are
    ``IterBasedTrainLoop``'s.
    """

    #: set by RandomStateHook on resume; restored once the loader has caught up
    pending_random_state = None

    def run(self):
        self.runner.call_hook('before_train')
        self.runner.call_hook('before_train_epoch')  # the whole run is one "epoch"
        if self._iter > 0:
            print_log(f'resume: advancing the data loader {self._iter} batches past the data '
                      'already trained', logger='current', level=logging.INFO)
            for _ in range(self._iter):
                next(self.dataloader_iterator)
        if self.pending_random_state is not None:
            restore_random_state(self.pending_random_state)
            self.pending_random_state = None
        while self._iter < self._max_iters and not self.stop_training:
            self.runner.model.train()
            data_batch = next(self.dataloader_iterator)
            self.run_iter(data_batch)
            self._decide_current_val_interval()
            if (self.runner.val_loop is not None and self._iter >= self.val_begin
                    and (self._iter % self.val_interval == 0
                         or self._iter == self._max_iters)):
                self.runner.val_loop.run()
        self.runner.call_hook('after_train_epoch')
        self.runner.call_hook('after_train')
        return self.runner.model
