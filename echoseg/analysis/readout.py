"""The clinical read-out on held-out real videos: post-processing, plausibility flags,
mirrored views and test-time flip averaging (``docs/inference.md``, "Measured";
``tools/analysis/readout_measure.py``).

    python tools/analysis/readout_measure.py CV_DIR [CV_DIR ...] [--labels A B ...]
        [--data-root DIR] [--out-dir DIR] [--threads 1] [--videos N]
    python tools/analysis/readout_measure.py --merge A.json B.json ... [--out-dir DIR]

Every ``CV_DIR`` is a work dir of ``tools/analysis/cross_validate.py`` run with
``--keep-checkpoints``: its ``cross_validation.json`` lists per run the held-out videos and
the checkpoint, and ``<run>/run_config.py`` the run's config. Each checkpoint is measured
only on its own run's held-out videos (never on a video it trained on).

Per held-out video, the model runs through :class:`echoseg.apis.VideoPredictor` (windows of
the config's clip length, no post-processing, class probabilities kept) on the video and on
its mirror image (LV on the left). From those two passes come four predictions:

- ``original`` and ``mirrored``: the plain predictions;
- ``original+tta`` and ``mirrored+tta``: test-time flip averaging, the mean of the two
  passes' probabilities (one mirrored back), which is what ``VideoPredictor(tta_flip=True)``
  computes (the windows' average is linear; the tool checks the masks on the first video
  against the predictor's own). On a mirrored video it is the mirrored prediction, so the
  two ``+tta`` rows differ only by the mirror.

Each prediction is read out twice with :meth:`VideoResult.from_masks`: without
post-processing and with the default one (largest LV component, holes filled), both with the
plausibility flags (sector from the video's per-pixel maximum). Reported per video: Dice of
the traced ED and ES frames (the reference masks mirrored for a mirrored video), the
absolute EF error of the Simpson EF of the predicted masks at the traced frames, and of the
whole-video EF against FileList.csv's EF: ``ef_all`` (mean over every beat, the read-out
before the flags) and ``ef_trusted`` (mean over the unflagged beats; None when every beat is
flagged). Writes ``readout_measure.json`` (per video and summary) and ``readout_measure.md``.

``--merge`` joins earlier ``readout_measure.json`` files (e.g. the folds of one model
measured as they finished) into one table: the videos of each label are pooled and
summarised again; a video measured twice under one label is an error.
"""
import argparse
import json
import os
import os.path as osp
import sys
import time
from typing import Dict, List, Optional

import numpy as np

#: the script whose command line :func:`main` is (recorded in the results)
TOOL = 'tools/analysis/readout_measure.py'
VIEWS = ('original', 'mirrored', 'original+tta', 'mirrored+tta')
POST = ('raw', 'post')
COLUMNS = (('dice_ed', 'Dice ED', 3), ('dice_es', 'Dice ES', 3), ('dice', 'Dice ED+ES', 3),
           ('ef_masks_error', '\\|EF err\\| ED/ES masks', 1),
           ('ef_all_error', '\\|EF err\\| video, all beats', 1),
           ('ef_trusted_error', '\\|EF err\\| video, unflagged beats', 1))


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('cv_dirs', nargs='*', metavar='CV_DIR',
                        help='cross_validate.py work dirs (run with --keep-checkpoints)')
    parser.add_argument('--merge', nargs='+', metavar='JSON',
                        help='join earlier readout_measure.json files instead of measuring')
    parser.add_argument('--labels', nargs='+', help='a name per CV_DIR (default: folder name)')
    parser.add_argument('--data-root', help="EchoNet-layout folder (default: the runs' own)")
    parser.add_argument('--out-dir', default='work_dirs/readout_measure')
    parser.add_argument('--threads', type=int, default=1, help='torch threads (0: default)')
    parser.add_argument('--videos', type=int, help='measure only the first N held-out videos '
                        'of each run (smoke tests)')
    return parser.parse_args(argv)


def load_runs(cv_dir: str) -> List[Dict]:
    """[{name, held_out, checkpoint, config}] of a cross-validation work dir."""
    path = osp.join(cv_dir, 'cross_validation.json')
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: not found (a cross_validate.py work dir?)')
    with open(path) as f:
        data = json.load(f)
    runs = []
    for run in data.get('runs', []):
        run_dir = osp.join(cv_dir, run['name'])
        config = osp.join(run_dir, 'run_config.py')
        ckpt = run.get('checkpoint')
        if not ckpt or not osp.isfile(ckpt):
            local = osp.join(run_dir, osp.basename(ckpt or ''))
            if not osp.isfile(local):
                raise FileNotFoundError(f'{path}: run {run["name"]}: checkpoint {ckpt} not '
                                        'found (cross_validate.py needs --keep-checkpoints)')
            ckpt = local
        if not osp.isfile(config):
            raise FileNotFoundError(f'{config}: not found')
        runs.append(dict(name=run['name'], held_out=list(run['held_out']), checkpoint=ckpt,
                         config=config, data_root=data['settings'].get('data_root')))
    if not runs:
        raise ValueError(f'{path}: no runs')
    return runs


def reference(data_root: str, video_ids: List[str]) -> Dict[str, Dict]:
    """{video: frames, fps, EF, ED/ES frame numbers and traced masks} of an EchoNet folder."""
    from mmengine.registry import init_default_scope

    from echoseg.datasets.echonet import EchoNetDynamicDataset
    from echoseg.datasets.transforms import load_clip
    from echoseg.io import read_volume, video_info
    init_default_scope('echoseg')
    ds = EchoNetDynamicDataset(data_root=data_root, split='all', video_ids=video_ids,
                               pipeline=[])
    out = {}
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        clip = load_clip(info, num_frames=2)
        ed, es = int(clip['ed_index']), int(clip['es_index'])
        frames, _ = read_volume(info['video_path'])
        out[info['video_id']] = dict(
            video=frames, fps=video_info(info['video_path']).fps, ef=float(info['ef']),
            ed_frame=int(clip['frame_indices'][ed]), es_frame=int(clip['frame_indices'][es]),
            ed_mask=clip['masks'][ed] == 1, es_mask=clip['masks'][es] == 1)
    return out


def read_out(masks: np.ndarray, ref: Dict, mirrored: bool, post: bool, fov) -> Dict:
    """Dice and EF errors of one prediction (``masks`` of the possibly mirrored video)."""
    from echoseg.apis import VideoResult
    from echoseg.evaluation.functional import dice_score, ejection_fraction, simpson_volume
    result = VideoResult.from_masks(masks, fps=ref['fps'], postprocess=post,
                                    field_of_view=fov)
    flip = (lambda m: m[:, ::-1]) if mirrored else (lambda m: m)
    ed_ref, es_ref = flip(ref['ed_mask']), flip(ref['es_mask'])
    lv = result.masks == 1
    ed_pred, es_pred = lv[ref['ed_frame']], lv[ref['es_frame']]
    ef_masks = ejection_fraction(simpson_volume(ed_pred), simpson_volume(es_pred))
    all_efs = [b['ef'] for b in result.beats if np.isfinite(b['ef'])]
    ef_all = float(np.mean(all_efs)) if all_efs else float('nan')
    rec = dict(dice_ed=dice_score(ed_pred, ed_ref), dice_es=dice_score(es_pred, es_ref),
               ef_masks=ef_masks, ef_all=ef_all, ef_trusted=result.ef_mean,
               num_beats=len(result.beats),
               num_used=int(sum(b['used'] for b in result.beats)), flags=result.flags,
               ef_note=result.ef_note,
               frames_multi=int(np.sum(result.frame_measures['components'] > 1)))
    rec['dice'] = (rec['dice_ed'] + rec['dice_es']) / 2
    for key in ('ef_masks', 'ef_all', 'ef_trusted'):
        rec[f'{key}_error'] = abs(rec[key] - ref['ef'])
    rec['ef_all_outside_0_100'] = bool(np.isfinite(ef_all) and not 0 <= ef_all <= 100)
    return rec


def measure_run(run: Dict, refs: Dict[str, Dict], limit: Optional[int],
                check_tta: bool) -> Dict[str, Dict]:
    """{video: {view: {raw|post: read-out}}} of one run's held-out videos."""
    import torch

    from echoseg.apis import VideoPredictor, init_model
    from echoseg.evaluation.functional.plausibility import estimate_field_of_view
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    model = init_model(run['config'], run['checkpoint'], device=device)
    predictor = VideoPredictor(model, postprocess=False, keep_probs=True)
    out = {}
    for vid in run['held_out'][:limit]:
        ref = refs[vid]
        video = ref['video']
        mirror = np.ascontiguousarray(video[:, :, ::-1])
        p = predictor.predict(video, fps=ref['fps']).probs
        q = predictor.predict(mirror, fps=ref['fps']).probs
        tta = (p + q[..., ::-1]) * np.float32(0.5)
        if check_tta:
            own = VideoPredictor(model, postprocess=False, tta_flip=True).predict(
                video, fps=ref['fps']).masks
            agree = float(np.mean(own == tta.argmax(axis=1)))
            if agree < 0.9999:
                raise RuntimeError(f'{vid}: the two-pass flip average agrees with '
                                   f'VideoPredictor(tta_flip=True) on {agree:.5f} of pixels')
        fov = estimate_field_of_view(video.max(axis=0))
        fov_m = None if fov is None else fov[:, ::-1]
        preds = {'original': (p, False), 'mirrored': (q, True),
                 'original+tta': (tta, False), 'mirrored+tta': (tta[..., ::-1], True)}
        out[vid] = {}
        for view, (probs, mirrored) in preds.items():
            masks = probs.argmax(axis=1).astype(np.uint8)
            out[vid][view] = {post: read_out(masks, ref, mirrored, post == 'post',
                                             fov_m if mirrored else fov)
                              for post in POST}
        print(f"  {vid}: Dice ED/ES original {out[vid]['original']['post']['dice_ed']:.3f}/"
              f"{out[vid]['original']['post']['dice_es']:.3f}, mirrored "
              f"{out[vid]['mirrored']['post']['dice_ed']:.3f}/"
              f"{out[vid]['mirrored']['post']['dice_es']:.3f}", flush=True)
    return out


def summarise(videos: Dict[str, Dict]) -> Dict:
    """Means over videos per (view, post) and the counts of flagged read-outs."""
    summary = {}
    for view in VIEWS:
        for post in POST:
            recs = [v[view][post] for v in videos.values()]
            row = {}
            for key, _, _ in COLUMNS:
                vals = np.array([r[key] for r in recs], dtype=np.float64)
                fin = vals[np.isfinite(vals)]
                row[key] = float(fin.mean()) if fin.size else None
            row['num_videos'] = len(recs)
            row['no_trusted_ef'] = int(sum(not np.isfinite(r['ef_trusted']) for r in recs))
            row['beats_used'] = int(sum(r['num_used'] for r in recs))
            row['beats'] = int(sum(r['num_beats'] for r in recs))
            row['ef_all_outside_0_100'] = int(sum(r['ef_all_outside_0_100'] for r in recs))
            summary[f'{view}/{post}'] = row
    return summary


def markdown(results: Dict[str, Dict]) -> str:
    head = ('| model | video | post-processing | ' +
            ' | '.join(title for _, title, _ in COLUMNS) +
            ' | beats used / found | videos without EF |')
    lines = [head, '|' + '---|' * (len(COLUMNS) + 5)]
    for label, res in results.items():
        for key, row in res['summary'].items():
            view, post = key.split('/')
            cells = ['' if row[k] is None else f'{row[k]:.{d}f}' for k, _, d in COLUMNS]
            lines.append(f"| {label} | {view} | {'on' if post == 'post' else 'off'} | " +
                         ' | '.join(cells) + f" | {row['beats_used']} / {row['beats']} | "
                         f"{row['no_trusted_ef']}/{row['num_videos']} |")
    return '\n'.join(lines)


def merge(paths: List[str]) -> Dict[str, Dict]:
    """Results of several ``readout_measure.json`` files, pooled per label."""
    results = {}
    for path in paths:
        if not osp.isfile(path):
            raise FileNotFoundError(f'{path}: not found')
        with open(path) as f:
            data = json.load(f)
        for label, res in data.get('results', {}).items():
            into = results.setdefault(label, dict(cv_dir=[], videos={}, runs=[]))
            twice = set(into['videos']) & set(res['videos'])
            if twice:
                raise ValueError(f'{path}: {label}: video(s) {sorted(twice)} measured twice')
            into['cv_dir'].append(res['cv_dir'])
            into['videos'].update(res['videos'])
            into['runs'].extend(res['runs'])
    for res in results.values():
        res['videos'] = {k: _nan_for_none(v) for k, v in res['videos'].items()}
        res['summary'] = summarise(res['videos'])
    return results


def _nan_for_none(value, key=None):
    """JSON's null back to NaN in the numbers of a read-out (``ef_note`` stays None)."""
    if isinstance(value, dict):
        return {k: _nan_for_none(v, k) for k, v in value.items()}
    return float('nan') if value is None and key != 'ef_note' else value


def write_outputs(out_dir: str, results: Dict, command: str, seconds: float) -> Dict:
    from echoseg.evaluation.results_io import _clean as json_safe  # NaN -> null
    os.makedirs(out_dir, exist_ok=True)
    out = dict(command=command, seconds=round(seconds, 1), results=results)
    with open(osp.join(out_dir, 'readout_measure.json'), 'w') as f:
        json.dump(json_safe(out), f, indent=1)
    table = markdown(results)
    with open(osp.join(out_dir, 'readout_measure.md'), 'w') as f:
        f.write(f"# Clinical read-out on held-out videos\n\n{table}\n\nCommand: "
                f"`{command}` ({out['seconds']:.0f} s)\n")
    print('\n' + table)
    return out


def main(argv=None) -> Dict:
    """The command line of ``tools/analysis/readout_measure.py``; returns what
    ``readout_measure.json`` holds."""
    args = parse_args(argv)
    command = ' '.join([TOOL] + list(sys.argv[1:] if argv is None else argv))
    if args.merge:
        try:
            return write_outputs(args.out_dir, merge(args.merge), command, 0.0)
        except (FileNotFoundError, ValueError, KeyError) as exc:
            print(f'error: {exc}', file=sys.stderr)
            raise SystemExit(2)
    if not args.cv_dirs:
        print('error: give CV_DIR(s) to measure, or --merge JSON files', file=sys.stderr)
        raise SystemExit(2)
    import torch
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    labels = args.labels or [osp.basename(osp.normpath(d)) for d in args.cv_dirs]
    if len(labels) != len(args.cv_dirs):
        print(f'error: {len(labels)} labels for {len(args.cv_dirs)} folders', file=sys.stderr)
        raise SystemExit(2)
    try:
        plans = {label: load_runs(d) for label, d in zip(labels, args.cv_dirs)}
    except (FileNotFoundError, ValueError, KeyError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        raise SystemExit(2)
    start = time.time()
    results, checked = {}, False
    for label, runs in plans.items():
        videos = {}
        for run in runs:
            data_root = args.data_root or run['data_root']
            refs = reference(data_root, run['held_out'][:args.videos])
            print(f"{label} {run['name']}: {run['checkpoint']} on {sorted(refs)}", flush=True)
            videos.update(measure_run(run, refs, args.videos, check_tta=not checked))
            checked = True
        results[label] = dict(cv_dir=args.cv_dirs[labels.index(label)], videos=videos,
                              summary=summarise(videos),
                              runs=[dict(r, data_root=args.data_root or r['data_root'])
                                    for r in runs])
    return write_outputs(args.out_dir, results, command, time.time() - start)
