"""What the commands share: argument groups declared once, the predictor they build, and
the one way a command reports a user's error (``error: <message>`` on stderr, status 2)."""
import argparse
import os
import sys

#: exit status of a command stopped by a user's error (bad file, config or option)
EXIT_USAGE = 2
#: the demo's model (``tools/demo.py``, README command 1): its config, the work dir it
#: trains in and the checkpoint it leaves there (the config's last epoch)
DEMO_CONFIG = 'configs/baselines/fcn_r18_synthetic_ef.py'
DEMO_WORK_DIR = 'work_dirs/demo'
DEMO_CHECKPOINT = f'{DEMO_WORK_DIR}/epoch_12.pth'


def fail(error) -> int:
    """Print ``error: <error>`` on stderr; returns :data:`EXIT_USAGE`."""
    print(f'error: {error}', file=sys.stderr)
    return EXIT_USAGE


def user_errors() -> tuple:
    """The exceptions that mean a user's mistake in a config, checkpoint or file (their
    messages name the file): reported by :func:`fail`, not as a traceback."""
    from echoseg.utils.checkpoint import CheckpointError
    from echoseg.utils.config_check import ConfigError
    return (ConfigError, FileNotFoundError, CheckpointError, KeyError)


def add_cfg_options(parser: argparse.ArgumentParser) -> None:
    from mmengine.config import DictAction
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value (dotted keys)')


def add_runner_args(parser: argparse.ArgumentParser) -> None:
    """``--work-dir``, ``--cfg-options``, ``--launcher``, ``--local_rank`` (train, test)."""
    parser.add_argument('--work-dir', help='where logs, checkpoints and results go '
                        '(default: work_dirs/<config name>)')
    add_cfg_options(parser)
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher (pytorch = torchrun)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def close_distributed(finished: bool = False) -> None:
    """Destroy the default process group if the run opened one, so that a launched rank
    exits only after its communicator's threads are joined (without it a gloo rank can
    abort at interpreter exit: ``terminate called without an active exception``).

    ``finished``: every rank completed the run, so all meet at a barrier first; no rank
    then shuts its connections down while a peer still has a collective or its own
    teardown in flight (the same abort, seen once in CI on the 2-process CPU test).
    Not on the error path, where a peer may never reach the barrier."""
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        if finished:
            dist.barrier()
        dist.destroy_process_group()


def set_local_rank(args) -> None:
    """``LOCAL_RANK`` from ``--local_rank`` unless the launcher set it."""
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)


def runner_config(args, datasets=('train_dataloader', 'val_dataloader', 'test_dataloader')):
    """The config of :func:`add_runner_args`' options (``args.config``, ``--cfg-options``,
    ``--launcher``, ``--work-dir``), the ``data_root`` of the ``datasets`` loaders checked;
    ``LOCAL_RANK`` set first."""
    from echoseg.utils.config import load_config
    from echoseg.utils.config_check import check_data_roots
    set_local_rank(args)
    cfg = load_config(args.config, args.cfg_options, args.launcher, args.work_dir)
    check_data_roots(cfg, args.config, which=datasets)
    return cfg


def add_predictor_args(parser: argparse.ArgumentParser) -> None:
    """How a model runs over a whole video (infer, serve): device, windows, post-processing,
    flip averaging, config overrides; :func:`predictor_kwargs` turns them into
    ``VideoPredictor`` arguments."""
    parser.add_argument('--device', default='cpu', help="'cpu', 'cuda', 'cuda:1' ...")
    parser.add_argument('--num-frames', type=int,
                        help="clip length T (default: the config's test pipeline)")
    parser.add_argument('--stride', type=int,
                        help='frames between windows (default T for per-frame models and '
                        'models with a per-video memory, else T // 2)')
    parser.add_argument('--frame-step', type=int, default=1,
                        help='windows hold every n-th frame (as training clips sampled '
                        'from ED to ES); every frame is still predicted')
    parser.add_argument('--no-postprocess', action='store_true',
                        help='keep the raw argmax masks (default: the largest LV component '
                        'per frame, holes filled)')
    parser.add_argument('--temporal-window', type=int, default=0, metavar='W',
                        help='also smooth the LV masks by a per-pixel majority over W '
                        '(odd) frames (default 0: off)')
    parser.add_argument('--tta-flip', action='store_true',
                        help='test-time flip averaging: mean of the predictions on the '
                        'video and on its mirror image (twice the compute)')
    parser.add_argument('--ef-readout', choices=('frames', 'smoothed'), default='frames',
                        help="each beat's EDV/ESV from its single ED and ES frames "
                        "('frames', default) or from the volume curve smoothed over time "
                        "('smoothed': no outward bias from frame-to-frame noise; "
                        'docs/inference.md)')
    add_cfg_options(parser)


def predictor_kwargs(args) -> dict:
    """``VideoPredictor`` keyword arguments of :func:`add_predictor_args`' options; a
    ``ValueError`` for options that contradict each other."""
    if args.no_postprocess and args.temporal_window:
        raise ValueError('--temporal-window is part of the post-processing: it cannot go '
                         'with --no-postprocess')
    postprocess = False if args.no_postprocess else dict(temporal_window=args.temporal_window)
    return dict(num_frames=args.num_frames, stride=args.stride, frame_step=args.frame_step,
                postprocess=postprocess, tta_flip=args.tta_flip,
                ef_readout=args.ef_readout)


__all__ = ['fail', 'user_errors', 'EXIT_USAGE', 'add_cfg_options', 'add_runner_args',
           'set_local_rank', 'runner_config', 'add_predictor_args', 'predictor_kwargs']
