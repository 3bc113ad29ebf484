"""What semi-supervision adds on synthetic clips, and from which scale on
(docs/real_data.md, "What semi-supervision adds";
``tools/experiments/semi_supervision_scale.py``):

    python tools/experiments/semi_supervision_scale.py [--methods fcn echoforge]
        [--sizes 8 32 128] [--seeds 0 1] [--epochs 6 | --iterations 192]
        [--work-dir DIR] [--threads 1]

For each method its semi-supervised part off and on, at each number of labelled synthetic
training videos (each gives one 10-frame ED -> ES clip per epoch: ED and ES labelled, the
8 middle frames unlabelled, so labelled and unlabelled frames grow together), for each
seed: one run of :mod:`echoseg.analysis.ablation` (same data, schedule, epochs and test
split for both arms; every frame of the test videos evaluated; batches of 2 clips) in
``<work dir>/<method>/n<N>_e<epochs>/seed<S>``. ``--iterations`` gives every size the same
number of training steps (a small set trains more epochs) instead of the same epochs,
so that a small set is not compared undertrained. A finished run (``ablation.json``) is reused, so an
interrupted sweep continues where it stopped, but only when it was made by the same
configs and arguments (its ``run_key.json``, :func:`run_key`): a run directory of other
settings raises an error naming it instead of entering the table. Arms:

- ``fcn``: FCN-R18 (``configs/baselines/fcn_r18_synthetic.py``) against the same with
  self-training (``selftrain_fcn_r18_synthetic.py``), both on 10-frame clips in batches of
  2 (the supervised arm trains on the same clips, its loss on ED and ES only);
- ``echoforge``: EchoForge rows III (ARC + TSF) and IV (+ CPR with FlameRise) of
  ``configs/echoforge/r18_synthetic.py``.

Then ``semi_supervision_scale.md`` / ``.json`` in the work dir: per method and size, mDice
of each arm, their difference paired by seed (mean ± sd over the seeds), and the Dice of
the on-arm's pseudo-labels on the unlabelled training frames against their hidden masks,
beside the model's own prediction on the same frames (the pseudo-labels help only where
they are better than what the model already predicts).
"""
import argparse
import json
import math
import os
import os.path as osp
from typing import Dict, List, Optional

from echoseg.evaluation.results_io import _clean as json_safe  # NaN -> null

from mmengine.config import Config

from . import ablation
from .cross_validation import RUN_KEY, config_digest, digest, read_json
from .method_table import seed_stat
from .paths import CONFIG_ROOT

#: clips per training step for every method and size
BATCH = 2
FCN_OFF = osp.join(CONFIG_ROOT, 'baselines', 'fcn_r18_synthetic.py')
FCN_ON = osp.join(CONFIG_ROOT, 'baselines', 'selftrain_fcn_r18_synthetic.py')
ECHOFORGE = osp.join(CONFIG_ROOT, 'echoforge', 'r18_synthetic.py')

#: per method: the ablation arguments of one run and how its two arms are found in
#: ``ablation.json`` (design, row)
METHODS = {
    'fcn': dict(
        name='FCN-R18, self-training',
        args=['--config', '--extra-configs', FCN_OFF, FCN_ON, '--num-frames', '10'],
        off=(ablation.extra_design_name(FCN_OFF), ablation.EXTRA_ROW),
        on=(ablation.extra_design_name(FCN_ON), ablation.EXTRA_ROW),
        part='self-training'),
    'echoforge': dict(
        name='EchoForge (ARC + TSF), CPR',
        args=['--config', ECHOFORGE, '--rows', 'III', 'IV'],
        off=(ablation.design_name(ECHOFORGE), 'III'),
        on=(ablation.design_name(ECHOFORGE), 'IV'),
        part='CPR with FlameRise'),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--methods', nargs='+', default=['fcn'], choices=sorted(METHODS))
    parser.add_argument('--sizes', nargs='+', type=int, default=[8, 32, 128],
                        help='labelled synthetic training videos')
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1])
    parser.add_argument('--epochs', type=int, default=6,
                        help='epochs at every size (ignored with --iterations)')
    parser.add_argument('--iterations', type=int, default=None,
                        help='the same number of training steps at every size (batches of '
                        '2 clips): epochs = ceil(iterations x 2 / videos), so that a small '
                        'set is not compared undertrained')
    parser.add_argument('--test-videos', type=int, default=16)
    parser.add_argument('--image-size', type=int, default=None,
                        help="square input size (default: each config's)")
    parser.add_argument('--work-dir', default=osp.join('work_dirs', 'semi_supervision_scale'))
    parser.add_argument('--threads', type=int, default=0,
                        help="torch CPU threads (0: PyTorch's default)")
    parser.add_argument('--table-only', action='store_true',
                        help='only the table of the runs already finished')
    args = parser.parse_args(argv)
    if min(args.sizes) < 1:
        parser.error('--sizes: at least one video')
    return args


def run_dir(work_dir: str, method: str, size: int, seed: int, epochs: int) -> str:
    """Where one run lives: its budget is part of the name, so a run of another
    budget is never reused for this one."""
    return osp.join(work_dir, method, f'n{size}_e{epochs}', f'seed{seed}')


def epochs_for(size: int, args) -> int:
    """``--epochs``, or with ``--iterations`` the epochs that give that many steps of
    :data:`BATCH` clips on ``size`` videos (one clip per video and epoch)."""
    if args.iterations is None:
        return args.epochs
    return max(1, math.ceil(args.iterations * BATCH / size))


def ablation_argv(method: str, size: int, seed: int, args) -> List[str]:
    """The arguments of one run's :mod:`echoseg.analysis.ablation` call, without its work
    dir and thread count (which do not change the result)."""
    argv = list(METHODS[method]['args']) + [
        '--num-videos', str(size), '--test-videos', str(args.test_videos),
        '--epochs', str(epochs_for(size, args)), '--batch-size', str(BATCH),
        '--seeds', str(seed)]
    if args.image_size:
        argv += ['--image-size', str(args.image_size)]
    return argv


def run_key(argv: List[str]) -> str:
    """What one run's result depends on: its ablation arguments and the resolved content
    of every config they name (:func:`config_digest`), so an edited config is not reused."""
    configs = sorted(config_digest(Config.fromfile(a)) for a in argv if a.endswith('.py'))
    return digest(dict(argv=[osp.relpath(a, CONFIG_ROOT) if a.endswith('.py') else a
                             for a in argv], configs=configs))


def check_run_key(out: str, key: str) -> None:
    """Raise ``RuntimeError`` naming ``out`` when it holds a run of other settings (or a
    finished run with no key)."""
    path = osp.join(out, RUN_KEY)
    if not osp.isfile(path) and not osp.isfile(osp.join(out, 'ablation.json')):
        return
    saved = (read_json(path) or {}).get('run_key')
    if saved != key:
        raise RuntimeError(f'{out}: holds a run of other settings (configs or arguments '
                           f'changed since; {RUN_KEY} {saved or "missing"}); use another '
                           '--work-dir or delete that folder')


def run_one(method: str, size: int, seed: int, args) -> Dict:
    """The ablation run of one method, size and seed (reused when finished with the
    same :func:`run_key`)."""
    out = run_dir(args.work_dir, method, size, seed, epochs_for(size, args))
    done = osp.join(out, 'ablation.json')
    argv = ablation_argv(method, size, seed, args)
    key = run_key(argv)
    check_run_key(out, key)
    if not osp.isfile(done):
        os.makedirs(out, exist_ok=True)
        with open(osp.join(out, RUN_KEY), 'w') as f:
            json.dump(dict(run_key=key, argv=argv), f, indent=1)
        ablation.main(argv + ['--work-dir', out, '--threads', str(args.threads)])
    with open(done) as f:
        return json.load(f)


def arms(result: Dict, method: str) -> Dict[str, Optional[Dict]]:
    """The off and on runs of one ablation result (None where missing)."""
    found = {}
    for arm in ('off', 'on'):
        design, row = METHODS[method][arm]
        found[arm] = next((r for r in result['rows']
                           if r.get('design') == design and r.get('row') == row), None)
    return found


def summarise(runs: Dict) -> List[Dict]:
    """``runs[method][size][seed]`` = {'off': run, 'on': run} -> one row per method and
    size: each arm's mDice, the paired difference on - off, the pseudo-label and own
    Dice of the on arm, mean ± sd over the seeds that have both arms."""
    rows = []
    for method, sizes in runs.items():
        for size in sorted(sizes):
            pairs = [p for p in sizes[size].values() if p['off'] and p['on']]
            dice = {arm: [p[arm]['metrics']['mDice'] for p in pairs] for arm in ('off', 'on')}
            epochs = sorted({p[a]['epochs'] for p in pairs for a in ('off', 'on')
                             if p[a].get('epochs') is not None})
            rows.append(dict(
                method=method, name=METHODS[method]['name'], size=size, seeds=len(pairs),
                epochs=epochs,
                off=seed_stat(dice['off']), on=seed_stat(dice['on']),
                gain=seed_stat([b - a for a, b in zip(dice['off'], dice['on'])]),
                ef_mae_off=seed_stat([p['off']['metrics'].get('EF_MAE') for p in pairs]),
                ef_mae_on=seed_stat([p['on']['metrics'].get('EF_MAE') for p in pairs]),
                pseudo_dice=seed_stat([p['on'].get('pseudo_dice') for p in pairs]),
                own_dice=seed_stat([p['on'].get('own_dice') for p in pairs])))
    return rows


def _fmt(stat: Dict, digits: int = 4, sign: bool = False) -> str:
    if stat['mean'] is None:
        return 'n/a'
    text = f"{stat['mean']:+.{digits}f}" if sign else f"{stat['mean']:.{digits}f}"
    return text + (f" ± {stat['sd']:.{digits}f}" if stat['sd'] is not None else '')


def markdown(rows: List[Dict], settings: Dict) -> str:
    lines = ['| method | labelled videos | epochs | seeds | mDice off | mDice on | on - off '
             '(paired) | EF MAE off / on | pseudo-label Dice (on) | own prediction Dice (on) |',
             '|---|---|---|---|---|---|---|---|---|---|']
    for r in rows:
        epochs = '/'.join(str(e) for e in r.get('epochs') or []) or 'n/a'
        lines.append(
            f"| {r['name']} | {r['size']} | {epochs} | {r['seeds']} | {_fmt(r['off'])} "
            f"| {_fmt(r['on'])} "
            f"| {_fmt(r['gain'], sign=True)} | {_fmt(r['ef_mae_off'], 1)} / "
            f"{_fmt(r['ef_mae_on'], 1)} | {_fmt(r['pseudo_dice'])} | {_fmt(r['own_dice'])} |")
    parts = ', '.join(f"{m}: {METHODS[m]['part']}" for m in settings['methods'])
    budget = (f"{settings['iterations']} training steps of {BATCH} clips at every size"
              if settings.get('iterations') else f"{settings['epochs']} epochs")
    lines += ['', f"Semi-supervised part off / on ({parts}); synthetic training videos as "
              f"listed (one 10-frame ED -> ES clip each per epoch, ED and ES labelled), "
              f"{budget}, {settings['test_videos']} test videos (every "
              f"frame), seeds {settings['seeds']}; mean ± sd over the seeds. Pseudo-label "
              'and own-prediction Dice: last epoch, unlabelled training frames against '
              'their hidden masks.']
    return '\n'.join(lines)


def main(argv=None) -> Dict:
    args = parse_args(argv)
    # seed by seed, so that a sweep stopped part-way has the whole curve of its first seeds
    runs = {m: {n: {} for n in args.sizes} for m in args.methods}
    for seed in args.seeds:
        for method in args.methods:
            for size in args.sizes:
                done = osp.join(run_dir(args.work_dir, method, size, seed,
                                        epochs_for(size, args)), 'ablation.json')
                if args.table_only and not osp.isfile(done):
                    continue
                print(f'=== {method}: {size} labelled videos, seed {seed}', flush=True)
                result = run_one(method, size, seed, args)
                found = arms(result, method)
                for run in found.values():
                    if run is not None:
                        run.setdefault('epochs', result['settings']['epochs'])
                runs[method][size][seed] = found
    settings = dict(methods=list(args.methods), sizes=list(args.sizes),
                    seeds=list(args.seeds), epochs=args.epochs, iterations=args.iterations,
                    test_videos=args.test_videos)
    rows = summarise(runs)
    table = markdown(rows, settings)
    os.makedirs(args.work_dir, exist_ok=True)
    with open(osp.join(args.work_dir, 'semi_supervision_scale.md'), 'w') as f:
        f.write(f'# What semi-supervision adds on synthetic clips\n\n{table}\n')
    out = dict(settings=settings, rows=rows)
    with open(osp.join(args.work_dir, 'semi_supervision_scale.json'), 'w') as f:
        json.dump(json_safe(out), f, indent=2)
    print('\n' + table)
    return out


__all__ = ['main', 'summarise', 'arms', 'markdown', 'run_key', 'METHODS']
