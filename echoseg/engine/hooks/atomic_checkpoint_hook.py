"""``AtomicCheckpointHook``: a kill during a checkpoint save never leaves the run without a
loadable checkpoint."""
import logging
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log

from echoseg.registry import HOOKS
from echoseg.utils.atomic_io import atomic_write, remove_stale_temp_files


class _DeferredRemoval:
    """A file backend whose ``remove``/``rmtree`` are recorded instead of done."""

    def __init__(self, backend) -> None:
        self._backend = backend
        self.pending = []

    def remove(self, path) -> None:
        self.pending.append(('remove', path))

    def rmtree(self, path) -> None:
        self.pending.append(('rmtree', path))

    def __getattr__(self, name):
        return getattr(self._backend, name)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """MMEngine's ``CheckpointHook`` with a crash-safe order of file operations.

    MMEngine 0.10.7 deletes the oldest kept checkpoint *before* writing the new one, writes
    the new one in place and then rewrites ``last_checkpoint`` in place: a kill in between
    can leave a truncated newest checkpoint, or (``max_keep_ckpts=1``) no checkpoint at all
    while ``last_checkpoint`` names a deleted file. Here:

    1. the new checkpoint is written to a temporary file, fsynced and renamed into place
       (echoseg's ``AtomicLocalBackend``, which every MMEngine save goes through);
    2. only then ``last_checkpoint`` is replaced, atomically too;
    3. only then the checkpoints beyond ``max_keep_ckpts`` are deleted;
    4. the same for ``save_best``: MMEngine deletes the previous best checkpoint before it
       writes the new one; here the previous one is deleted after the new one is complete.

    A kill at any moment leaves ``last_checkpoint`` naming a complete checkpoint. Temporary
    files of an interrupted save are removed when training starts again. Arguments are
    ``CheckpointHook``'s; ``echoseg.utils.config.load_config`` puts this hook in place of
    ``CheckpointHook``.
    """

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if is_main_process() and osp.isdir(str(self.out_dir)):
            removed = remove_stale_temp_files(str(self.out_dir))
            if removed:
                print_log(f'removed {len(removed)} temporary file(s) of an interrupted '
                          f'checkpoint save: {removed}', logger='current',
                          level=logging.WARNING)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        backend = self.file_backend
        deferred = _DeferredRemoval(backend)
        self.file_backend = deferred
        try:
            super()._save_best_checkpoint(runner, metrics)
        finally:  # a failed save deletes nothing
            self.file_backend = backend
        # (MMEngine sets best_ckpt_path only with one key indicator, the dict with several)
        current = {getattr(self, 'best_ckpt_path', None)}
        current |= set((getattr(self, 'best_ckpt_path_dict', None) or {}).values())
        for op, path in deferred.pending:
            if path not in current:
                getattr(backend, op)(path)

    def _save_checkpoint_with_step(self, runner, step, meta):
        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        outdated = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids
                                            and self.keep_ckpt_ids[-1] == step):
            # (_save_checkpoint and _save_best_checkpoint may both save the same step)
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

        runner.save_checkpoint(
            self.out_dir, ckpt_filename, self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler, meta=meta,
            by_epoch=self.by_epoch, backend_args=self.backend_args, **self.args)
        if not is_main_process():
            return
        atomic_write(osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt)
        for old in outdated:
            path = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(old))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):  # DeepSpeed saves folders
                self.file_backend.rmtree(path)
