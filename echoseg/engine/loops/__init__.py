from .resumable_epoch_based_train_loop import ResumableEpochBasedTrainLoop
from .resumable_iter_based_train_loop import ResumableIterBasedTrainLoop

__all__ = ['ResumableEpochBasedTrainLoop', 'ResumableIterBasedTrainLoop']
