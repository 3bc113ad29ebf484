"""Command-line entry points (``tools/train.py``, ``tools/test.py`` call these)."""
import argparse
import logging
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction
from mmengine.logging import print_log


def _common_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--work-dir', help='where logs, checkpoints and results go '
                        '(default: work_dirs/<config name>)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value (dotted keys)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher (pytorch = torchrun)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


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


def _fail(exc: BaseException) -> None:
    print(f'error: {exc}', file=sys.stderr)
    sys.exit(2)


def build_runner(cfg: Config):
    """``EchoRunner.from_cfg`` after starting a CPU process group MMEngine cannot start
    (:mod:`echoseg.utils.distributed`)."""
    from echoseg.engine.runner import EchoRunner
    from echoseg.utils.distributed import init_distributed
    init_distributed(cfg.launcher, (cfg.get('env_cfg') or {}).get('dist_cfg'))
    return EchoRunner.from_cfg(cfg)


def _check_fits(runner, path: str, checkpoint=None) -> None:
    """The checkpoint must be one of the runner's model (MMEngine loads non-strictly)."""
    from mmengine.model import is_model_wrapper

    from echoseg.utils.checkpoint import check_checkpoint_fits, load_local_checkpoint
    if checkpoint is None:
        checkpoint = load_local_checkpoint(path, map_location='cpu')
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    check_checkpoint_fits(model, checkpoint, path)


def train_main(argv=None) -> None:
    parser = argparse.ArgumentParser(description='Train an echoseg model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--resume', nargs='?', const='auto', default=None,
                        help='resume from the latest checkpoint in the work dir, or from '
                        'the checkpoint given')
    parser.add_argument('--amp', action='store_true', help='mixed-precision training (GPU)')
    _common_args(parser)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)

    from echoseg.utils.checkpoint import CheckpointError
    from echoseg.utils.config_check import ConfigError, check_data_roots
    from echoseg.utils.pretrained import prepare_pretrained
    try:
        cfg = load_config(args.config, args.cfg_options, args.launcher, args.work_dir)
        if args.amp:
            import torch
            if not torch.cuda.is_available():
                raise ConfigError('--amp needs a CUDA GPU (MMEngine mixed precision is not '
                                  'available on CPU)')
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        if args.resume == 'auto':
            cfg.resume = True
            cfg.load_from = None
        elif args.resume is not None:
            if not osp.isfile(args.resume):
                raise CheckpointError(f'{args.resume}: checkpoint file not found')
            cfg.resume = True
            cfg.load_from = args.resume
        prepare_pretrained(cfg, args.config)  # ImageNet weights on disk (skipped on resume)
        check_data_roots(cfg, args.config)
    except (ConfigError, FileNotFoundError, CheckpointError, KeyError) as exc:
        _fail(exc)

    runner = build_runner(cfg)
    resume_from = cfg.load_from if args.resume not in (None, 'auto') else None
    if args.resume == 'auto':
        from mmengine.runner import find_latest_checkpoint
        resume_from = find_latest_checkpoint(cfg.work_dir)
        if resume_from is None:
            print_log(f'--resume: no checkpoint in {cfg.work_dir}; starting from scratch',
                      logger='current', level=logging.WARNING)
    try:
        if resume_from is not None:
            _check_fits(runner, resume_from)
        runner.train()
    except CheckpointError as exc:
        _fail(exc)


def test_main(argv=None) -> None:
    parser = argparse.ArgumentParser(description='Evaluate an echoseg checkpoint')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='directory for per-case results (JSON/CSV) and plots')
    _common_args(parser)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)

    from echoseg.utils.checkpoint import CheckpointError, load_local_checkpoint
    from echoseg.utils.config_check import ConfigError, check_data_roots
    try:
        cfg = load_config(args.config, args.cfg_options, args.launcher, args.work_dir)
        check_data_roots(cfg, args.config, which=('test_dataloader', ))
        checkpoint = load_local_checkpoint(args.checkpoint, map_location='cpu')  # fail early
    except (ConfigError, FileNotFoundError, CheckpointError, KeyError) as exc:
        _fail(exc)
    cfg.load_from = args.checkpoint
    if args.out:
        evaluators = cfg.test_evaluator if isinstance(cfg.test_evaluator, list) \
            else [cfg.test_evaluator]
        for ev in evaluators:
            if ev.get('type') in ('EchoMetric', 'echoseg.EchoMetric'):
                ev['output_dir'] = args.out
    runner = build_runner(cfg)
    try:
        _check_fits(runner, args.checkpoint, checkpoint)
    except CheckpointError as exc:
        _fail(exc)
    del checkpoint
    metrics = runner.test()
    from mmengine.dist import is_main_process
    if not is_main_process():  # every process has the gathered metrics: rank 0 reports
        return
    print_metrics(metrics)
    if args.out:
        write_report(args.out, osp.splitext(osp.basename(args.config))[0])


def write_report(out_dir: str, name: str) -> None:
    """The papers' table (markdown) and EF/volume plots from EchoMetric's dump."""
    from echoseg.evaluation.analysis import results_table
    from echoseg.evaluation.results_io import load_results
    dump = osp.join(out_dir, 'echo_metric_results.json')
    if not osp.isfile(dump):
        print_log(f'no EchoMetric dump at {dump}; table and plots skipped', logger='current',
                  level=logging.WARNING)
        return
    results = load_results(dump)
    table = results_table([(name, results)])
    with open(osp.join(out_dir, 'results_table.md'), 'w') as f:
        f.write(table)
    print(table)
    if results.get('ef_cases'):
        from echoseg.visualization.clinical_plots import save_agreement_plots
        for path in save_agreement_plots(results['ef_cases'], out_dir, name):
            print(f'wrote {path}')


def print_metrics(metrics: dict) -> None:
    """Print the metric dict as an aligned table."""
    if not metrics:
        return
    width = max(len(k) for k in metrics)
    print('-' * (width + 16))
    for key, value in metrics.items():
        text = f'{value:.4f}' if isinstance(value, float) else str(value)
        print(f'{key:<{width}}  {text}')
    print('-' * (width + 16))
