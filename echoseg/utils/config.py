"""Configs as every echoseg tool reads them, and the runner they build.

- :func:`load_config`: read, check and complete a config (``--cfg-options``, crash-safe
  train loops and checkpoint hook, plain-data checkpoint and random-state hooks, CPU
  fall-backs of the distributed settings).
- :func:`scale_epoch_schedule`: a new ``max_epochs`` moves the epoch schedule's end.
- :func:`build_runner`: the ``EchoRunner`` of a config (a CPU process group where needed).
- :func:`check_runner_checkpoint`: a checkpoint must be one of the runner's model.
"""
import os.path as osp

from mmengine.config import Config


def load_config(path: str, options=None, launcher='none', work_dir=None) -> Config:
    """Read, check and complete a config the way every echoseg tool does."""
    import torch

    import echoseg  # noqa: F401  (safe checkpoint loader)
    from echoseg.utils.config_check import (check_cfg_options, check_top_level_keys,
                                            check_value_types)
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file not found: {path}')
    cfg = Config.fromfile(path)
    check_top_level_keys(cfg, path)
    if options:
        check_cfg_options(cfg, options, path)
        base_epochs = (cfg.get('train_cfg') or {}).get('max_epochs')
        cfg.merge_from_dict(options)
        check_top_level_keys(cfg, path)
        epochs = (cfg.get('train_cfg') or {}).get('max_epochs')
        if base_epochs and epochs and epochs != base_epochs and not any(
                k.startswith('param_scheduler') for k in options):
            scale_epoch_schedule(cfg, base_epochs, epochs)
    cfg.launcher = launcher
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs', osp.splitext(osp.basename(path))[0])
    check_value_types(cfg, path)
    cfg.setdefault('default_scope', 'echoseg')
    hooks = list(cfg.get('custom_hooks') or [])
    for name in ('PlainCheckpointHook', 'RandomStateHook', 'PseudoLabelMemorySyncHook'):
        if not any(h.get('type') in (name, f'echoseg.{name}') for h in hooks):
            hooks.append(dict(type=name))
    cfg.custom_hooks = hooks
    _crash_safe_types(cfg)
    if not torch.cuda.is_available():
        env = cfg.get('env_cfg') or {}
        dist = dict(env.get('dist_cfg') or {})
        if dist.get('backend', 'nccl') == 'nccl':
            dist['backend'] = 'gloo'
        cfg.env_cfg = dict(env, dist_cfg=dist)
        # MMEngine's DDP wrapper takes device_ids=[LOCAL_RANK] and torch's SyncBatchNorm,
        # both refused for a CPU module: echoseg's CPU wrapper handles them
        wrapper = dict(cfg.get('model_wrapper_cfg') or {})
        if wrapper.get('type', 'MMDistributedDataParallel') == 'MMDistributedDataParallel':
            wrapper['type'] = 'echoseg.models.wrappers.CPUDistributedDataParallel'
            wrapper.setdefault('broadcast_buffers', False)
            wrapper.setdefault('find_unused_parameters',
                               cfg.get('find_unused_parameters', False))
            cfg.model_wrapper_cfg = wrapper
    return cfg


def scale_epoch_schedule(cfg: Config, base_epochs: int, epochs: int) -> None:
    """A new ``train_cfg.max_epochs`` also moves the end of every epoch-based
    ``param_scheduler`` that ended at the old one (a PolyLR over the whole run stays over
    the whole run, instead of stopping half-way or being cut off), in place. Called by
    :func:`load_config` when ``--cfg-options`` change ``train_cfg.max_epochs`` (and do not
    touch ``param_scheduler``), and by ``tools/analysis/cross_validate.py --epochs``."""
    schedulers = cfg.get('param_scheduler') or []
    for sched in ([schedulers] if isinstance(schedulers, dict) else schedulers):
        if sched.get('by_epoch', True) and sched.get('end') == base_epochs:
            sched['end'] = int(epochs)


#: MMEngine types -> echoseg's crash-safe versions (docs/checkpoints.md)
CRASH_SAFE_LOOPS = {'EpochBasedTrainLoop': 'ResumableEpochBasedTrainLoop',
                    'IterBasedTrainLoop': 'ResumableIterBasedTrainLoop'}
CRASH_SAFE_CHECKPOINT_HOOK = 'AtomicCheckpointHook'


def _crash_safe_types(cfg: Config) -> None:
    """Stock train loops and CheckpointHook -> echoseg's subclasses that resume
    mid-epoch to the same result and never leave a run without a loadable checkpoint."""
    def bare(typ):
        return typ.split('.', 1)[1] if isinstance(typ, str) and typ.startswith(
            ('mmengine.', 'mmseg.')) else typ

    train_cfg = cfg.get('train_cfg')
    if isinstance(train_cfg, dict) and bare(train_cfg.get('type')) in CRASH_SAFE_LOOPS:
        train_cfg['type'] = CRASH_SAFE_LOOPS[bare(train_cfg['type'])]
    ckpt = (cfg.get('default_hooks') or {}).get('checkpoint')
    if isinstance(ckpt, dict) and bare(ckpt.get('type')) == 'CheckpointHook':
        ckpt['type'] = CRASH_SAFE_CHECKPOINT_HOOK


def build_runner(cfg: Config):
    """``EchoRunner.from_cfg`` after starting a CPU process group MMEngine cannot start
    (:mod:`echoseg.utils.distributed`)."""
    from echoseg.engine.runner import EchoRunner
    from echoseg.utils.distributed import init_distributed
    init_distributed(cfg.launcher, (cfg.get('env_cfg') or {}).get('dist_cfg'))
    return EchoRunner.from_cfg(cfg)


def check_runner_checkpoint(runner, path: str, checkpoint=None) -> None:
    """The checkpoint at ``path`` (or already loaded: ``checkpoint``) must be one of the
    runner's model (MMEngine loads non-strictly); a ``CheckpointError`` naming it if not."""
    from mmengine.model import is_model_wrapper

    from echoseg.utils.checkpoint import check_checkpoint_fits, load_local_checkpoint
    if checkpoint is None:
        checkpoint = load_local_checkpoint(path, map_location='cpu')
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    check_checkpoint_fits(model, checkpoint, path)


__all__ = ['load_config', 'scale_epoch_schedule', 'build_runner', 'check_runner_checkpoint',
           'CRASH_SAFE_LOOPS', 'CRASH_SAFE_CHECKPOINT_HOOK']
