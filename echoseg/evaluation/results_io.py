"""Reading and writing EchoMetric's per-case dumps.

A dump is one JSON file ``{'summary': {...}, 'clips': [...], 'ef_cases': [...]}`` (NaN
written as null) with two CSV files beside it, ``<stem>_clips.csv`` (one row per clip,
scalar columns) and ``<stem>_ef.csv`` (one row per EF case). :func:`load_results` reads
either the JSON or one of the CSVs.
"""
import csv
import json
import math
import os
import os.path as osp
from typing import Dict, List, Sequence

CLIP_COLUMNS = ('video_id', 'patient_id', 'view', 'num_frames', 'num_labelled', 'dice',
                'iou', 'hd95', 'asd', 'dice_ed', 'dice_es', 'hd95_ed', 'hd95_es',
                'edv_pred', 'esv_pred', 'ef_pred', 'edv_ref', 'esv_ref', 'ef_ref',
                'volume_unit', 'distance_unit', 'tc_area_change', 'tc_flicker',
                'tc_area_change_ref', 'tc_curve_error')
EF_COLUMNS = ('case_id', 'patient_id', 'mode', 'video_ids', 'views', 'ef_pred', 'ef_ref',
              'edv_pred', 'edv_ref', 'esv_pred', 'esv_ref', 'volume_unit', 'ef_ref_source',
              'ef_pred_flags')


def _clean(value):
    """JSON-safe copy: NaN/inf -> None, numpy scalars -> Python numbers."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, 'tolist') and not isinstance(value, (str, bytes)):
        return _clean(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _restore(value):
    """Inverse of :func:`_clean` for the numeric fields: None -> NaN."""
    if isinstance(value, dict):
        return {k: _restore(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore(v) for v in value]
    return float('nan') if value is None else value


def csv_paths(json_path: str) -> Dict[str, str]:
    stem = osp.splitext(json_path)[0]
    return dict(clips=stem + '_clips.csv', ef_cases=stem + '_ef.csv')


def _write_csv(path: str, rows: Sequence[Dict], columns: Sequence[str]) -> None:
    extra = sorted({k for r in rows for k in r if k not in columns
                    and not isinstance(r[k], (list, dict, tuple))})
    with open(path, 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=list(columns) + extra, extrasaction='ignore')
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ('' if v is None or (isinstance(v, float) and math.isnan(v))
                                 else v) for k, v in row.items()})


def dump_results(path: str, summary: Dict, clips: List[Dict], ef_cases: List[Dict]) -> None:
    """Write ``path`` (JSON) and its two CSV companions."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    with open(path, 'w') as f:
        json.dump(_clean(dict(summary=summary, clips=clips, ef_cases=ef_cases)), f, indent=1)
    paths = csv_paths(path)
    _write_csv(paths['clips'], clips, CLIP_COLUMNS)
    _write_csv(paths['ef_cases'], ef_cases, EF_COLUMNS)


def _parse_cell(text: str):
    if text == '':
        return float('nan')
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def load_results(path: str) -> Dict:
    """``{'summary', 'clips', 'ef_cases'}`` from a JSON dump or one of its CSV files (a CSV
    fills only the list it holds: rows with ``ef_pred`` and ``mode`` columns are EF cases)."""
    if path.endswith('.json'):
        with open(path) as f:
            data = _restore(json.load(f))
        return dict(summary=data.get('summary', {}), clips=data.get('clips', []),
                    ef_cases=data.get('ef_cases', []))
    with open(path, newline='') as f:
        reader = csv.DictReader(f)
        rows = [{k: _parse_cell(v) if k not in ('video_id', 'patient_id', 'case_id',
                                                 'video_ids') else v
                 for k, v in row.items()} for row in reader]
        columns = reader.fieldnames or []
    if 'mode' in columns and 'ef_pred' in columns:
        return dict(summary={}, clips=[], ef_cases=rows)
    return dict(summary={}, clips=rows, ef_cases=[])
