"""``tools/train.py`` / ``echoseg-train``: train a model from a config.

    python tools/train.py CONFIG [--work-dir D] [--resume [CKPT]] [--amp]
        [--cfg-options k=v ...] [--launcher pytorch]
"""
import argparse
import logging
import os.path as osp
import sys

from mmengine.logging import print_log

from .args import add_runner_args, close_distributed, fail, runner_config, user_errors


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description='Train an echoseg model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--resume', nargs='?', const='auto', default=None,
                        help='resume from the latest checkpoint in the work dir, or from '
                        'the checkpoint given')
    parser.add_argument('--amp', action='store_true', help='mixed-precision training (GPU)')
    add_runner_args(parser)
    return parser


def main(argv=None) -> None:
    """Train; a user's error ends the process with ``error: ...`` and status 2."""
    args = build_parser().parse_args(argv)
    from echoseg.utils.checkpoint import CheckpointError
    from echoseg.utils.config import build_runner, check_runner_checkpoint
    from echoseg.utils.config_check import ConfigError, check_data_roots
    from echoseg.utils.pretrained import prepare_pretrained
    try:
        cfg = runner_config(args, datasets=())   # data checked after the weights below
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
    except user_errors() as exc:
        sys.exit(fail(exc))
    runner = build_runner(cfg)
    resume_from = cfg.load_from if args.resume not in (None, 'auto') else None
    if args.resume == 'auto':
        from mmengine.runner import find_latest_checkpoint
        resume_from = find_latest_checkpoint(cfg.work_dir)
        if resume_from is None:
            print_log(f'--resume: no checkpoint in {cfg.work_dir}; starting from scratch',
                      logger='current', level=logging.WARNING)
    finished = False
    try:
        if resume_from is not None:
            check_runner_checkpoint(runner, resume_from)
        runner.train()
        finished = True
    except CheckpointError as exc:
        sys.exit(fail(exc))
    finally:
        close_distributed(finished=finished)


__all__ = ['main', 'build_parser']
