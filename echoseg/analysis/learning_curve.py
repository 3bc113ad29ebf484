"""One learning-curve table from several cross-validation runs (docs/real_data.md;
``tools/experiments/learning_curve.py``).

    python tools/experiments/learning_curve.py WORK_DIR [WORK_DIR ...] [--out FILE.md]
        [--json FILE.json]

Each WORK_DIR is the ``--work-dir`` of one ``tools/analysis/cross_validate.py`` call (it
holds ``cross_validation.json``). The runs are grouped into arms by (config, whether a
checkpoint initialised them) and, within an arm, by the number of labelled training
videos. Every held-out video of every run contributes one value per metric; a cell is
the mean +- sd over those per-video values (so a 2-fold run over 7 videos and a 4-fold
run both weigh each held-out video once per seed). No value comes from a video its model
trained on: cross_validate.py checks that in code, and this tool checks it again from the
recorded video lists.

The training schedule of each arm and size (epochs, folds, options) is printed below the
table, read from the JSON, so the table says how it was made.
"""
import argparse
import json
import os.path as osp
import sys
from collections import OrderedDict
from typing import Dict, List

import numpy as np

METRICS = [('dice_ed', 'Dice ED', 3), ('dice_es', 'Dice ES', 3), ('dice', 'Dice ED+ES', 3),
           ('hd95', 'HD95 (px)', 1), ('ef_masks_error', 'EF abs. error, ED/ES masks', 1),
           ('ef_video_error', 'EF abs. error, whole video', 1)]
#: with cross_validate.py --postprocess: Dice of the masks as predicted (before it)
RAW_METRIC = ('dice_raw', 'Dice ED+ES as predicted', 3)


def load_run_dir(work_dir: str) -> dict:
    path = osp.join(work_dir, 'cross_validation.json')
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: no cross_validation.json (is {work_dir} the '
                                '--work-dir of a finished cross_validate.py run?)')
    with open(path) as f:
        data = json.load(f)
    for key in ('settings', 'runs'):
        if key not in data:
            raise ValueError(f'{path}: not a cross_validate.py result (no "{key}")')
    return data


def arm_label(settings: dict) -> str:
    init = 'synthetic-pretrained' if settings.get('load_from') else 'scratch'
    post = ', post-processed masks' if settings.get('postprocess') else ''
    return f"{settings['config']} ({init}{post})"


def collect(results: List[dict]) -> Dict[str, Dict[int, dict]]:
    """arm -> train size -> {'videos': [per-video dicts], 'settings': [...], ...}."""
    arms: Dict[str, Dict[int, dict]] = OrderedDict()
    for data in results:
        settings = data['settings']
        label = arm_label(settings)
        for run in data['runs']:
            trained = set(run['trained_video_ids'])
            measured = set(run['measured_video_ids'])
            if trained & measured:
                raise ValueError(f"{run['work_dir']}: videos both trained on and measured: "
                                 f'{sorted(trained & measured)}')
            # --train-sizes N: N videos; without it every video outside the fold ('all')
            size = len(trained) if settings.get('train_sizes') else 'all'
            cell = arms.setdefault(label, OrderedDict()).setdefault(
                size, dict(videos=[], runs=0, schedules=set(), no_ef=0, counts=set(),
                           video_ef=False))
            # --no-video-ef: no whole-video EF was measured; otherwise a video without one
            # had no beat, or every beat was flagged (docs/inference.md)
            measured = not settings.get('no_video_ef', False)
            cell['video_ef'] |= measured
            cell['counts'].add(len(trained))
            cell['runs'] += 1
            cell['schedules'].add(
                f"{settings['num_folds']} folds, {run['epochs']} epochs, seeds {settings['seeds']}")
            for video in run['videos']:
                cell['videos'].append(video)
                if measured and video.get('ef_video') is None:
                    cell['no_ef'] += 1
    return arms


def summarise(values: List[float]) -> dict:
    arr = np.asarray([v for v in values if v is not None], dtype=float)
    if arr.size == 0:
        return dict(mean=None, sd=None, n=0)
    return dict(mean=float(arr.mean()), sd=float(arr.std(ddof=1)) if arr.size > 1 else 0.0,
                n=int(arr.size))


def fmt(stat: dict, digits: int) -> str:
    if stat['mean'] is None:
        return 'n/a'
    return f"{stat['mean']:.{digits}f} ± {stat['sd']:.{digits}f}"


def table(arms: Dict[str, Dict[int, dict]]) -> (str, dict):
    metrics = list(METRICS)
    if any('dice_raw' in v for sizes in arms.values() for cell in sizes.values()
           for v in cell['videos']):
        metrics.insert(3, RAW_METRIC)
    head = ['arm', 'training videos', 'runs', 'held-out videos'] + [m[1] for m in metrics] + \
        ['no whole-video EF', 'schedule']
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    out = {}
    for label, sizes in arms.items():
        for size in sorted(sizes, key=lambda s: (s == 'all', s if s != 'all' else 0)):
            cell = sizes[size]
            counts = sorted(cell['counts'])
            shown = str(size) if size != 'all' else \
                f"all others ({counts[0]}{'-' + str(counts[-1]) if len(counts) > 1 else ''})"
            stats = {key: summarise([v.get(key) for v in cell['videos']]) for key, _, _ in metrics}
            out.setdefault(label, {})[size] = dict(runs=cell['runs'],
                                                   held_out=len(cell['videos']),
                                                   no_ef=cell['no_ef'], **stats)
            row = [label, shown, str(cell['runs']), str(len(cell['videos']))]
            row += [fmt(stats[key], d) for key, _, d in metrics]
            beats = f"{cell['no_ef']}/{len(cell['videos'])}" if cell['video_ef'] else 'not measured'
            row += [beats, '; '.join(sorted(cell['schedules']))]
            lines.append('| ' + ' | '.join(row) + ' |')
    return '\n'.join(lines), out


def main(argv=None) -> int:
    """The command line of ``tools/experiments/learning_curve.py``; the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('work_dirs', nargs='+')
    parser.add_argument('--out', help='also write the markdown table here')
    parser.add_argument('--json', help='also write the numbers here')
    args = parser.parse_args(argv)
    try:
        results = [load_run_dir(d) for d in args.work_dirs]
        arms = collect(results)
    except (OSError, ValueError) as err:
        print(f'Error: {err}', file=sys.stderr)
        return 2
    text, numbers = table(arms)
    commands = '\n'.join(f"- `{r['settings']['command']}`" for r in results)
    text = (f'{text}\n\nEach cell: mean ± sd over the held-out videos (one value per video, '
            f'fold and seed). Made from:\n\n{commands}\n')
    print(text)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({k: {str(s): v for s, v in d.items()} for k, d in numbers.items()}, f,
                      indent=1)
    return 0
