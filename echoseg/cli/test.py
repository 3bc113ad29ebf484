"""``tools/test.py`` / ``echoseg-test``: evaluate a checkpoint, print the metrics and,
with ``--out``, write per-case results, the papers' table and the EF plots.

    python tools/test.py CONFIG CHECKPOINT [--out DIR] [--work-dir D]
        [--cfg-options k=v ...] [--launcher pytorch]
"""
import argparse
import logging
import os.path as osp
import sys

from mmengine.logging import print_log

from .args import add_runner_args, close_distributed, fail, runner_config, user_errors


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description='Evaluate an echoseg checkpoint')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='directory for per-case results (JSON/CSV) and plots')
    add_runner_args(parser)
    return parser


def main(argv=None) -> None:
    """Evaluate; a user's error ends the process with ``error: ...`` and status 2."""
    args = build_parser().parse_args(argv)
    from echoseg.utils.checkpoint import CheckpointError, load_local_checkpoint
    from echoseg.utils.config import build_runner, check_runner_checkpoint
    try:
        cfg = runner_config(args, datasets=('test_dataloader', ))
        checkpoint = load_local_checkpoint(args.checkpoint, map_location='cpu')  # fail early
    except user_errors() as exc:
        sys.exit(fail(exc))
    cfg.load_from = args.checkpoint
    if args.out:
        evaluators = cfg.test_evaluator if isinstance(cfg.test_evaluator, list) \
            else [cfg.test_evaluator]
        for ev in evaluators:
            if ev.get('type') in ('EchoMetric', 'echoseg.EchoMetric'):
                ev['output_dir'] = args.out
    runner = build_runner(cfg)
    try:
        check_runner_checkpoint(runner, args.checkpoint, checkpoint)
    except CheckpointError as exc:
        sys.exit(fail(exc))
    del checkpoint
    from mmengine.dist import is_main_process
    finished = False
    try:
        metrics = runner.test()
        main_process = is_main_process()  # asked before the process group is closed
        finished = True
    finally:
        close_distributed(finished=finished)
    if not main_process:  # every process has the gathered metrics: rank 0 reports
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


__all__ = ['main', 'build_parser', 'write_report', 'print_metrics']
