"""Batch EF of unlabelled videos against an EchoNet-layout FileList
(``tools/analysis/ef_from_videos.py``).

    python tools/analysis/ef_from_videos.py CONFIG CHECKPOINT DATA_ROOT --out-dir DIR
        [--split TEST] [--limit N] [--device cpu] [--frame-step S] [--threads 2]

``DATA_ROOT`` holds ``FileList.csv`` (``FileName``, ``EF``, ``FPS`` ...) and ``Videos/``
(EchoNet-Dynamic's layout; ``FileName`` with or without ``.avi``). Every listed video that
exists (of ``--split`` when given) is segmented whole by :class:`echoseg.apis.VideoPredictor`
(read frame by frame, the FileList's FPS as the frame rate); its EF is the mean over the
beats found on the LV area curve, in two ways:

- ``ef_frames``: each beat's EF from the Simpson volumes of its single ED and ES frames
  (what ``tools/infer.py`` reports; noise in the per-frame volumes biases it upward);
- ``ef_smoothed``: from the volume curve smoothed over time at the same frames
  (:func:`echoseg.evaluation.functional.beat_ef.smoothed_beats`).

Writes ``ef_per_video.csv`` (one row per video: reference EF, both predicted EFs, beats,
frames, seconds), ``ef_summary.json`` (MAE, bias, limits of agreement, Pearson r of each
against the reference, over the videos with a reference EF and at least one beat; videos
without a beat are counted) and Bland-Altman and regression plots of both. EF is a ratio,
so the missing pixel spacing of EchoNet videos does not matter.

The phase check: where ``VolumeTracings.csv`` labels a video's ED and ES frames, each row
also holds the distance in frames from the labelled ED and ES to the nearest detected one
(``ed_error``, ``es_error``: echoseg's rule, the top of the systolic fall; ``*_max_rule``:
the highest point of diastole, the rule before), and the summary their median and mean in
frames and milliseconds (docs/evaluation.md, "ED and ES by cardiac phase").
"""
import argparse
import csv
import json
import math
import os
import os.path as osp
import time
from typing import Dict, List, Optional

import numpy as np

from echoseg.evaluation.functional.cardiac_cycle import (ED_SEPARATION, beats_from_curves,
                                                         event_frame_errors)

METHODS = ('ef_frames', 'ef_smoothed')
CSV_FIELDS = ['video', 'split', 'ef_ref', 'ef_frames', 'ef_smoothed', 'num_beats',
              'num_frames', 'fps', 'seconds', 'ed_label', 'es_label', 'ed_error', 'es_error',
              'ed_error_max_rule', 'es_error_max_rule']
#: the ED placements compared by the phase check: rule 5b (the top of the systolic fall)
#: and the highest point of diastole (echoseg before rule 5b)
ED_RULES = dict(phase=ED_SEPARATION, max_rule=None)


def read_filelist(data_root: str, split: Optional[str] = None) -> List[Dict]:
    """FileList rows whose video exists: ``video``, ``path``, ``ef_ref``, ``fps``,
    ``split``. Raises ``FileNotFoundError`` / ``ValueError`` naming the file."""
    path = osp.join(data_root, 'FileList.csv')
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: no FileList.csv in the data root')
    with open(path, newline='') as f:
        reader = csv.DictReader(f)
        missing = {'FileName', 'EF'} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f'{path}: FileList.csv lacks the column(s) {sorted(missing)}')
        rows = list(reader)
    out = []
    for row in rows:
        if split and row.get('Split', '').upper() != split.upper():
            continue
        name = row['FileName'].strip()
        stem = name[:-4] if name.lower().endswith('.avi') else name
        video = osp.join(data_root, 'Videos', stem + '.avi')
        if not osp.isfile(video):
            continue
        try:
            ef = float(row['EF'])
        except ValueError:
            ef = float('nan')
        fps = row.get('FPS')
        out.append(dict(video=stem, path=video, ef_ref=ef, split=row.get('Split', ''),
                        fps=float(fps) if fps not in (None, '') else None))
    return out


def labelled_phases(data_root: str) -> Dict[str, Dict[str, int]]:
    """{video stem: {'ed': frame, 'es': frame}} of the traced frames in
    ``VolumeTracings.csv`` (ED the larger traced LV, ES the smaller); empty without the
    file. Videos with other than two traced frames are left out."""
    from echoseg.datasets.echonet import polygon_area, read_tracings, tracing_polygon
    path = osp.join(data_root, 'VolumeTracings.csv')
    if not osp.isfile(path):
        return {}
    out = {}
    for stem, frames in read_tracings(path).items():
        traced = {f: v for f, v in frames.items() if f != '!error'}
        if len(traced) != 2:
            continue
        areas = {f: polygon_area(tracing_polygon(np.asarray(pts))) for f, (_, pts)
                 in traced.items()}
        ed, es = sorted(areas, key=areas.get, reverse=True)
        out[stem] = dict(ed=int(ed), es=int(es))
    return out


def phase_errors(result, labels: Dict[str, int]) -> Dict:
    """Frame distance of the labelled ED and ES to the nearest detected ones, for each
    rule of :data:`ED_RULES` (the ES frames do not depend on the rule)."""
    out = dict(ed_label=labels['ed'], es_label=labels['es'])
    for rule, separation in ED_RULES.items():
        if separation == ED_SEPARATION:
            eds, ess = result.ed_frames, result.es_frames
        else:
            cycle, _, _, _ = beats_from_curves(result.areas, result.volumes, fps=result.fps,
                                               curve=result.curve, ed_separation=separation)
            eds, ess = cycle.ed_frames, cycle.es_frames
        suffix = '' if rule == 'phase' else f'_{rule}'
        out['ed_error' + suffix] = event_frame_errors(eds, [labels['ed']])[0]
        out['es_error' + suffix] = event_frame_errors(ess, [labels['es']])[0]
    return out


def phase_summary(rows: List[Dict]) -> Dict:
    """Median and mean absolute frame error (and ms, with the video's fps) of the
    labelled ED and ES, per rule, over the videos with a label and a detected event."""
    out = {}
    for rule in ED_RULES:
        suffix = '' if rule == 'phase' else f'_{rule}'
        stats = {}
        for event in ('ed', 'es'):
            pairs = [(r[f'{event}_error{suffix}'], r.get('fps')) for r in rows
                     if r.get(f'{event}_error{suffix}') is not None]
            frames = np.array([p[0] for p in pairs], dtype=np.float64)
            ms = np.array([p[0] * 1000.0 / p[1] for p in pairs if p[1]], dtype=np.float64)
            stats[event] = dict(
                n=len(pairs), median_frames=float(np.median(frames)) if pairs else None,
                mean_frames=float(np.mean(frames)) if pairs else None,
                median_ms=float(np.median(ms)) if ms.size else None,
                mean_ms=float(np.mean(ms)) if ms.size else None,
                n_without_event=sum(1 for r in rows if f'{event}_label' in r
                                    and r.get(f'{event}_error{suffix}') is None))
        out[rule] = stats
    return out


def agreement(rows: List[Dict]) -> Dict:
    """Per method: MAE, bias, sd, limits of agreement and Pearson r over the videos with
    a finite reference and prediction; ``n_no_beat`` counts videos with no beat found."""
    from echoseg.evaluation.functional.agreement import agreement_stats
    ref = np.array([r['ef_ref'] for r in rows], dtype=np.float64)
    out = {}
    for method in METHODS:
        pred = np.array([r[method] for r in rows], dtype=np.float64)
        stats = agreement_stats(pred, ref)
        stats['n_no_beat'] = int(np.sum(~np.isfinite(pred) & np.isfinite(ref)))
        out[method] = stats
    return out


def evaluate(predictor, items: List[Dict], log=print,
             labels: Optional[Dict[str, Dict[str, int]]] = None) -> List[Dict]:
    """Segment every video and return its CSV row (with the phase check of
    :func:`phase_errors` for the videos in ``labels``)."""
    from echoseg.evaluation.functional.beat_ef import smoothed_beats
    rows = []
    for i, item in enumerate(items):
        start = time.time()
        result = predictor.predict(item['path'], fps=item['fps'], name=item['video'])
        _, ef_smoothed = smoothed_beats(result.volumes, result.beats, result.period)
        row = dict(video=item['video'], split=item['split'], ef_ref=item['ef_ref'],
                   ef_frames=result.ef_mean, ef_smoothed=ef_smoothed,
                   num_beats=len(result.beats), num_frames=result.num_frames,
                   fps=result.fps, seconds=time.time() - start)
        if labels and item['video'] in labels:
            row.update(phase_errors(result, labels[item['video']]))
        rows.append(row)
        log(f'[{i + 1}/{len(items)}] {item["video"]}: reference EF {item["ef_ref"]:.1f}, '
            f'frames {row["ef_frames"]:.1f}, smoothed {ef_smoothed:.1f} '
            f'({row["num_beats"]} beats, {row["seconds"]:.1f} s)')
    return rows


def _fmt(v):
    if isinstance(v, float):
        return '' if not math.isfinite(v) else f'{v:.4f}'
    return '' if v is None else str(v)


def write_outputs(rows: List[Dict], summary: Dict, out_dir: str) -> List[str]:
    from echoseg.visualization.clinical_plots import (bland_altman_plot, regression_plot,
                                                      save_figure)
    os.makedirs(out_dir, exist_ok=True)
    paths = [osp.join(out_dir, 'ef_per_video.csv'), osp.join(out_dir, 'ef_summary.json')]
    with open(paths[0], 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _fmt(row.get(k)) for k in CSV_FIELDS})
    with open(paths[1], 'w') as f:
        json.dump(summary, f, indent=2, default=lambda x: None)
    ref = [r['ef_ref'] for r in rows]
    for method in METHODS:
        pred = [r[method] for r in rows]
        if not np.any(np.isfinite(pred) & np.isfinite(ref)):
            continue
        for kind, plot in (('bland_altman', bland_altman_plot),
                           ('regression', regression_plot)):
            path = osp.join(out_dir, f'{method}_{kind}.png')
            save_figure(plot(pred, ref, quantity='EF', unit='%'), path)
            paths.append(path)
    return paths


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('data_root', help='folder with FileList.csv and Videos/')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--split', help='only rows of this FileList Split (e.g. TEST)')
    parser.add_argument('--limit', type=int, help='at most this many videos')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--frame-step', type=int, default=1)
    parser.add_argument('--threads', type=int, help='torch CPU threads')
    return parser.parse_args(argv)


def main(argv=None) -> Dict:
    """The command line of ``tools/analysis/ef_from_videos.py``; returns the summary."""
    args = parse_args(argv)
    import torch
    from echoseg.apis import VideoPredictor, init_model
    if args.threads:
        torch.set_num_threads(args.threads)
    items = read_filelist(args.data_root, args.split)[:args.limit]
    if not items:
        raise SystemExit(f'error: {args.data_root}: no listed video found in Videos/')
    model = init_model(args.config, args.checkpoint, device=args.device)
    predictor = VideoPredictor(model, frame_step=args.frame_step)
    labels = labelled_phases(args.data_root)
    rows = evaluate(predictor, items, labels=labels)
    summary = dict(config=args.config, checkpoint=args.checkpoint,
                   data_root=args.data_root, split=args.split, num_videos=len(rows),
                   stride=predictor.stride, frame_step=predictor.frame_step,
                   per_video_memory=predictor.uses_memory, agreement=agreement(rows))
    if any('ed_label' in r for r in rows):
        summary['phase'] = phase_summary(rows)
    write_outputs(rows, summary, args.out_dir)
    for method, s in summary['agreement'].items():
        print(f"{method}: MAE {s['mae']:.2f}, bias {s['bias']:.2f}, LoA "
              f"[{s['loa_low']:.2f}, {s['loa_high']:.2f}], r {s['corr']:.3f} "
              f"(n = {int(s['n'])}, {s['n_no_beat']} without a beat)")
    for rule, stats in summary.get('phase', {}).items():
        print(f'labelled ED/ES frames, ED rule {rule}: ' + ', '.join(
            f"{event.upper()} median error {s['median_frames']} frames "
            f"({s['median_ms']} ms, mean {s['mean_frames']}; n = {s['n']}, "
            f"{s['n_without_event']} without one)" for event, s in stats.items()))
    print(f'results in {args.out_dir}')
    return summary
