"""Where a method-table row loses to another, video by video (docs/real_data.md, "Method
table"; ``tools/analysis/row_diagnosis.py``):

    python tools/analysis/row_diagnosis.py ROW.json --baseline BASE.json [--out FILE.md]

``ROW.json`` and ``BASE.json`` are cross-validation records of the method table (the
archive's ``docs/results/method_table/cv/<row>-<key>.json``, or a work root's
``cv/<row>-<key>/cross_validation.json``). Every held-out video is scored in each seed;
per video the tool averages over the seeds of each record and sets the two rows side by
side: Dice at the traced ED and ES frames (post-processed, as the table reports them),
the predicted / traced LV area at ED and ES, and the signed EF error of the ED/ES masks
against FileList.csv (beside the read-out's own error on the tracings). Each video's share
of the row's Dice gap is its Dice difference over the number of videos, so the shares sum
to the gap of the table's seed means over videos.

Failure flags (thresholds in :data:`FLAGS`), per video and row, read from the record:

- ``missed``: a traced frame's Dice below 0.3: the mask is elsewhere (another chamber) or
  empty;
- ``second blob``: post-processing (largest LV component, holes filled) raised a frame's
  Dice by more than 0.01: the raw mask had a second piece;
- ``wrong piece kept``: choosing the component by its overlap with the neighbouring frames
  beats keeping the largest by more than 0.05 at a frame;
- ``ES not contracted``: the ES area ratio above the ED one by more than 0.15 (ES read
  large against ED: EF read low), and ``ED small``: ED area below 0.85 of the tracing.
"""
import argparse
import json
import math
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Optional

from .method_table import _finite

#: flag name -> threshold (see the module docstring)
FLAGS = {'missed': 0.3, 'second blob': 0.01, 'wrong piece kept': 0.05,
         'ES not contracted': 0.15, 'ED small': 0.85}
#: per-video fields averaged over seeds
FIELDS = ('dice', 'dice_ed', 'dice_es', 'dice_ed_raw', 'dice_es_raw', 'area_ed', 'area_es',
          'ef_masks_err', 'ef_tracings_err', 'overlap_gain_ed', 'overlap_gain_es')


def load_record(path: str) -> Dict:
    """A method-table cross-validation record (archive file or work-root
    ``cross_validation.json``) -> ``{'runs': {name: run}}``, with the row's name."""
    try:
        with open(path) as f:
            data = json.load(f)
    except ValueError as exc:
        raise ValueError(f'{path}: not JSON ({exc})') from None
    runs = data.get('runs') if isinstance(data, dict) else None
    if isinstance(runs, list):               # a work root's cross_validation.json
        runs = {r['name']: r for r in runs}
    if not isinstance(runs, dict) or not runs:
        raise ValueError(f'{path}: no runs (not a cross-validation record of the method '
                         'table)')
    name = data.get('row') or osp.splitext(osp.basename(path))[0]
    return dict(row=name, runs=runs, path=path)


def _num(value) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return math.nan
    return value


def _video_fields(v: Dict) -> Dict[str, float]:
    comps = v.get('components') or {}
    largest, overlap = comps.get('largest') or {}, comps.get('overlap') or {}
    ef = _num(v.get('ef_filelist'))
    return dict(
        dice=_num(v.get('dice')), dice_ed=_num(v.get('dice_ed')),
        dice_es=_num(v.get('dice_es')),
        dice_ed_raw=_num(v.get('dice_ed_raw', v.get('dice_ed'))),
        dice_es_raw=_num(v.get('dice_es_raw', v.get('dice_es'))),
        area_ed=_num(largest.get('area_ratio_ed')), area_es=_num(largest.get('area_ratio_es')),
        ef_masks_err=_num(v.get('ef_masks')) - ef,
        ef_tracings_err=_num(v.get('ef_tracings')) - ef,
        overlap_gain_ed=_num(overlap.get('dice_ed')) - _num(largest.get('dice_ed')),
        overlap_gain_es=_num(overlap.get('dice_es')) - _num(largest.get('dice_es')))


def _mean(values: List[float]) -> float:
    values = _finite(values)
    return sum(values) / len(values) if values else math.nan


def readings(record: Dict) -> set:
    """The (video id, seed) pairs a record measured."""
    return {(v['video_id'], run.get('seed')) for run in record['runs'].values()
            for v in run.get('videos') or []}


def per_video(record: Dict, keep: Optional[set] = None) -> Dict[str, Dict]:
    """{video id: the :data:`FIELDS` averaged over the seeds that held it out, 'seeds'};
    ``keep``: only these (video id, seed) readings."""
    rows = defaultdict(lambda: defaultdict(list))
    for run in record['runs'].values():
        for v in run.get('videos') or []:
            if keep is not None and (v['video_id'], run.get('seed')) not in keep:
                continue
            fields = _video_fields(v)
            for key in FIELDS:
                rows[v['video_id']][key].append(fields[key])
            rows[v['video_id']]['seeds'].append(run.get('seed'))
    return {vid: dict({k: _mean(vals[k]) for k in FIELDS}, seeds=len(vals['seeds']))
            for vid, vals in rows.items()}


def flags(v: Dict) -> List[str]:
    """The failure flags of one video's averaged fields."""
    out = []
    if min(v['dice_ed'], v['dice_es']) < FLAGS['missed']:
        out.append('missed')
    if max(v['dice_ed'] - v['dice_ed_raw'], v['dice_es'] - v['dice_es_raw']) > \
            FLAGS['second blob']:
        out.append('second blob')
    if max(v['overlap_gain_ed'], v['overlap_gain_es']) > FLAGS['wrong piece kept']:
        out.append('wrong piece kept')
    if v['area_es'] - v['area_ed'] > FLAGS['ES not contracted']:
        out.append('ES not contracted')
    if v['area_ed'] < FLAGS['ED small']:
        out.append('ED small')
    return out


def diagnose(row: Dict, baseline: Dict) -> Dict:
    """Per video (the readings, video and seed, that both records hold: a row still
    running is compared on its finished seeds) the two rows side by side, the video's
    share of the Dice gap and the flags; and the gap itself."""
    both = readings(row) & readings(baseline)
    a, b = per_video(row, both), per_video(baseline, both)
    common = sorted(set(a) & set(b))
    if not common:
        raise ValueError(f"{row['path']} and {baseline['path']}: no held-out video in common")
    n = len(common)
    videos = []
    for vid in common:
        videos.append(dict(video_id=vid, row=a[vid], baseline=b[vid],
                           share=(a[vid]['dice'] - b[vid]['dice']) / n,
                           flags_row=flags(a[vid]), flags_baseline=flags(b[vid])))
    videos.sort(key=lambda v: v['share'])
    return dict(row=row['row'], baseline=baseline['row'], videos=videos,
                gap=sum(v['share'] for v in videos),
                only_row=sorted({v for v, _ in readings(row)} - set(common)),
                only_baseline=sorted({v for v, _ in readings(baseline)} - set(common)))


def _f(x: float, digits: int = 3, sign: bool = False) -> str:
    if x is None or math.isnan(x):
        return 'n/a'
    return f'{x:+.{digits}f}' if sign else f'{x:.{digits}f}'


def markdown(result: Dict) -> str:
    lines = [f"`{result['row']}` against `{result['baseline']}`: Dice ED+ES gap "
             f"{_f(result['gap'], 4, sign=True)} (mean over the videos of each video's mean "
             'over seeds)', '',
             '| video | share of the gap | Dice ED / ES: row | baseline | area ED / ES: row | '
             'baseline | EF err masks: row | baseline | tracings | flags: row | baseline |',
             '|---|---|---|---|---|---|---|---|---|---|---|']
    for v in result['videos']:
        r, b = v['row'], v['baseline']
        lines.append(
            f"| {v['video_id']} | {_f(v['share'], 4, sign=True)} | "
            f"{_f(r['dice_ed'])} / {_f(r['dice_es'])} | {_f(b['dice_ed'])} / {_f(b['dice_es'])} | "
            f"{_f(r['area_ed'], 2)} / {_f(r['area_es'], 2)} | "
            f"{_f(b['area_ed'], 2)} / {_f(b['area_es'], 2)} | "
            f"{_f(r['ef_masks_err'], 1, sign=True)} | {_f(b['ef_masks_err'], 1, sign=True)} | "
            f"{_f(r['ef_tracings_err'], 1, sign=True)} | "
            f"{', '.join(v['flags_row']) or '-'} | {', '.join(v['flags_baseline']) or '-'} |")
    for key, label in (('only_row', 'only in the row'), ('only_baseline',
                                                          'only in the baseline')):
        if result[key]:
            lines.append(f"\nVideos {label} (left out): {', '.join(result[key])}")
    return '\n'.join(lines)


def main(argv=None) -> Optional[Dict]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('row', help="the row's cross-validation record (JSON)")
    parser.add_argument('--baseline', required=True,
                        help="the baseline row's record (e.g. FCN-R18's)")
    parser.add_argument('--out', default=None, help='write the markdown here')
    parser.add_argument('--json', default=None, help='write the result as JSON here')
    args = parser.parse_args(argv)
    try:
        result = diagnose(load_record(args.row), load_record(args.baseline))
    except (OSError, ValueError, KeyError) as exc:
        parser.error(str(exc))
    text = markdown(result)
    print(text)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text + '\n')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=1, default=lambda x: None)
    return result


__all__ = ['load_record', 'per_video', 'flags', 'diagnose', 'markdown', 'main', 'FLAGS']
