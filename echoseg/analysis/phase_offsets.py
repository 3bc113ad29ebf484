"""Where the whole-video read-out puts ED and ES against the labelled frames, and what it
costs the EF (docs/evaluation.md, "ED and ES by cardiac phase";
``tools/analysis/phase_offsets.py``).

    python tools/analysis/phase_offsets.py RECORD [RECORD ...] [--json OUT]

A RECORD is a cross-validation's archive file (``docs/results/method_table/cv/*.json``,
:mod:`.method_table_archive`) or its work directory (``run.json`` and ``videos/*.json`` of
every run). For every held-out reading (a video read by a model that did not train on it):

- the *signed* offset of the nearest detected ED (ES) from the labelled one, in frames and
  milliseconds (positive: detected later), which the absolute errors of the
  cross-validation table cannot show: a rule that is systematically early or late;
- how flat the model's area curve is there: ``(A[detected] - A[labelled]) / A[detected]``
  for ED (for ES with the sign turned), the fraction of the area the read-out gains by
  its choice; near 0 the two frames are equally good readings of the curve;
- four EFs of the model's own volume curve against ``FileList.csv``: at the labelled ED
  and ES frames (what the read-out would give if it found the labelled frames), of the
  detected beat nearest the labelled ES, the video's mean over its trusted beats, and
  that mean with EDV and ESV read from the smoothed volume curve
  (:func:`~echoseg.evaluation.functional.beat_ef.smoothed_beats`: the extremes of a noisy
  curve are biased outward, docs/inference.md, "EF robust to noise").
"""
import argparse
import json
import math
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence

import numpy as np

from .cross_validation import RUN_RECORD, read_json
from .method_table_archive import compact_run


def _nearest(found: Sequence[int], frame: int) -> Optional[int]:
    return min((int(f) for f in found), key=lambda f: (abs(f - frame), f)) if found else None


def _ef(edv: float, esv: float) -> float:
    from echoseg.evaluation.functional import ejection_fraction
    return ejection_fraction(edv, esv)


def reading_offsets(video: Dict) -> Optional[Dict]:
    """The offsets, curve flatness and EFs of one held-out reading (a run record's video
    with its ``readout``); None without a read-out."""
    readout = video.get('readout')
    if not readout or not readout.get('areas'):
        return None
    areas = np.asarray(readout['areas'], float)
    volumes = np.asarray(readout.get('volumes') or [], float)
    fps = readout.get('fps')
    lab = dict(ed=int(video['ed_frame']), es=int(video['es_frame']))
    out = dict(video_id=video['video_id'], seed=video.get('seed'), fps=fps,
               ed_label=lab['ed'], es_label=lab['es'])
    for event, sign in (('ed', 1.0), ('es', -1.0)):
        det = _nearest(readout.get(f'{event}_frames') or [], lab[event])
        out[f'{event}_detected'] = det
        if det is None or not 0 <= lab[event] < areas.size:
            out[f'{event}_offset'] = out[f'{event}_offset_ms'] = None
            out[f'{event}_area_gain'] = None
            continue
        out[f'{event}_offset'] = det - lab[event]
        out[f'{event}_offset_ms'] = (1000.0 * (det - lab[event]) / fps) if fps else None
        out[f'{event}_area_gain'] = float(sign * (areas[det] - areas[lab[event]]) / areas[det])
    ref = video.get('ef_filelist')
    ref = float(ref) if ref is not None and math.isfinite(float(ref)) else None
    ef_lab = (_ef(volumes[lab['ed']], volumes[lab['es']])
              if volumes.size > max(lab.values()) else float('nan'))
    beats = readout.get('beats') or []
    beat = min(beats, key=lambda b: abs(int(b['es_frame']) - lab['es'])) if beats else None
    ef_beat = float(beat['ef']) if beat is not None else float('nan')
    ef_video = readout.get('ef_mean')
    ef_video = float(ef_video) if ef_video is not None else float('nan')
    ef_smoothed = float('nan')
    if beats and volumes.size:
        from echoseg.evaluation.functional.beat_ef import smoothed_beats
        _, ef_smoothed = smoothed_beats(volumes, beats, readout.get('period_frames'))
    for name, ef in (('labelled_frames', ef_lab), ('nearest_beat', ef_beat),
                     ('video', ef_video), ('video_smoothed', ef_smoothed)):
        out[f'ef_{name}'] = ef if math.isfinite(ef) else None
        out[f'ef_{name}_error'] = (ef - ref) if ref is not None and math.isfinite(ef) \
            else None
    out['ef_reference'] = ref
    return out


def load_readings(path: str) -> List[Dict]:
    """Every held-out reading of an archive file or a cross-validation work directory."""
    if osp.isdir(path):
        runs = {}
        for name in sorted(os.listdir(path)):
            if osp.isfile(osp.join(path, name, RUN_RECORD)):
                runs[name] = compact_run(osp.join(path, name), lambda *_: None)
    else:
        data = read_json(path)
        if data is None or 'runs' not in data:
            raise ValueError(f'{path}: not a method-table archive file (no "runs")')
        runs = data['runs']
    if not runs:
        raise ValueError(f'{path}: no finished run')
    out = []
    for name, record in sorted(runs.items()):
        for video in record.get('videos', []):
            row = reading_offsets(dict(video, seed=record.get('seed')))
            if row is not None:
                out.append(dict(row, run=name, source=path))
    return out


def _stats(values) -> Dict:
    v = np.asarray([x for x in values if x is not None], float)
    if not v.size:
        return dict(n=0, median=None, mean=None, mean_abs=None, median_abs=None)
    return dict(n=int(v.size), median=float(np.median(v)), mean=float(np.mean(v)),
                median_abs=float(np.median(np.abs(v))), mean_abs=float(np.mean(np.abs(v))))


def summarize(rows: List[Dict]) -> Dict:
    """Signed and absolute offsets, area gains and EF errors over the readings."""
    keys = ('ed_offset', 'es_offset', 'ed_offset_ms', 'es_offset_ms', 'ed_area_gain',
            'es_area_gain', 'ef_labelled_frames_error', 'ef_nearest_beat_error',
            'ef_video_error', 'ef_video_smoothed_error')
    return {k: _stats(r.get(k) for r in rows) for k in keys}


def _cell(v, digits=1, sign=True):
    if v is None:
        return 'n/a'
    if isinstance(v, (int, np.integer)):
        return f'{v:+d}' if sign else f'{v:d}'
    return f'{v:+.{digits}f}' if sign else f'{v:.{digits}f}'


def markdown(rows: List[Dict], summary: Dict) -> str:
    head = ['video', 'seed', 'labelled ED / ES', 'ED offset (frames)', 'ES offset (frames)',
            'ED / ES area gain (%)', 'EF at labelled frames - ref', 'EF nearest beat - ref',
            'EF video - ref', 'EF video, smoothed - ref']
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for r in rows:
        gains = ' / '.join('n/a' if r[f'{e}_area_gain'] is None else
                           f"{100 * r[f'{e}_area_gain']:.1f}" for e in ('ed', 'es'))
        lines.append('| ' + ' | '.join([
            r['video_id'], str(r.get('seed')), f"{r['ed_label']} / {r['es_label']}",
            _cell(r['ed_offset']), _cell(r['es_offset']), gains,
            _cell(r['ef_labelled_frames_error']), _cell(r['ef_nearest_beat_error']),
            _cell(r['ef_video_error']), _cell(r['ef_video_smoothed_error'])]) + ' |')
    s = summary
    lines += ['', f"{s['ed_offset']['n']} readings. Signed offset (detected - labelled; "
              f"median / mean): ED {_cell(s['ed_offset']['median'])} / "
              f"{_cell(s['ed_offset']['mean'])} frames, ES {_cell(s['es_offset']['median'])} "
              f"/ {_cell(s['es_offset']['mean'])} frames; absolute median ED "
              f"{_cell(s['ed_offset']['median_abs'], sign=False)}, ES "
              f"{_cell(s['es_offset']['median_abs'], sign=False)} frames "
              f"({_cell(s['ed_offset_ms']['median_abs'], 0, False)} / "
              f"{_cell(s['es_offset_ms']['median_abs'], 0, False)} ms).",
              'EF error (mean signed / mean absolute, points): at the labelled frames '
              f"{_cell(s['ef_labelled_frames_error']['mean'])} / "
              f"{_cell(s['ef_labelled_frames_error']['mean_abs'], sign=False)}, nearest "
              f"detected beat {_cell(s['ef_nearest_beat_error']['mean'])} / "
              f"{_cell(s['ef_nearest_beat_error']['mean_abs'], sign=False)}, video mean "
              f"{_cell(s['ef_video_error']['mean'])} / "
              f"{_cell(s['ef_video_error']['mean_abs'], sign=False)} "
              f"({s['ef_video_error']['n']} readings with an EF), smoothed "
              f"{_cell(s['ef_video_smoothed_error']['mean'])} / "
              f"{_cell(s['ef_video_smoothed_error']['mean_abs'], sign=False)} "
              f"({s['ef_video_smoothed_error']['n']})."]
    return '\n'.join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('records', nargs='+',
                        help='method-table archive files (cv/*.json) or cross-validation '
                             'work directories')
    parser.add_argument('--json', default=None, help='write the readings and summary here')
    return parser.parse_args(argv)


def main(argv=None) -> Dict:
    args = parse_args(argv)
    rows = []
    try:
        for path in args.records:
            if not osp.exists(path):
                raise ValueError(f'{path}: no such file or directory')
            rows += load_readings(path)
    except ValueError as exc:
        print(f'error: {exc}', file=sys.stderr)
        raise SystemExit(2)
    summary = summarize(rows)
    print(markdown(rows, summary))
    out = dict(readings=rows, summary=summary)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(out, f, indent=1)
    return out
