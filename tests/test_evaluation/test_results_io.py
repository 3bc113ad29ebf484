"""EchoMetric's dumps (echoseg.evaluation.results_io): the JSON and its two CSVs, read back
with the json and csv modules, and load_results on each of the three files."""
import csv
import json
import math

import numpy as np
import pytest

from echoseg.evaluation.results_io import (CLIP_COLUMNS, EF_COLUMNS, csv_paths,
                                           dump_results, load_results)


def _clips():
    return [dict(video_id='007', patient_id='p1', view='4CH', num_frames=np.int64(12),
                 dice=np.float32(0.75), hd95=float('nan'), asd=float('inf'),
                 frames=[dict(index=0, dice=0.5)], zeta=1.5, alpha='x'),
            dict(video_id='8', patient_id='p2', view='2CH', num_frames=9, dice=0.5,
                 hd95=2.25, asd=1.0, frames=[], zeta=2.5, alpha='y')]


def _cases():
    return [dict(case_id='007', patient_id='p1', mode='single', video_ids='007',
                 views='4CH', ef_pred=55.5, ef_ref=float('nan'), volume_unit='ml',
                 ef_pred_flags='small_lv')]


def _read_csv(path):
    with open(path, newline='') as f:
        reader = csv.reader(f)
        return next(reader), list(reader)


def test_json_has_no_nan_and_plain_numbers(tmp_path):
    path = str(tmp_path / 'deep' / 'r.json')         # the folder is made
    dump_results(path, dict(mDice=np.float64(0.625), per_label=np.array([1.0, np.nan])),
                 _clips(), _cases())
    text = open(path).read()
    assert 'NaN' not in text and 'Infinity' not in text
    raw = json.loads(text)
    assert raw['summary'] == dict(mDice=0.625, per_label=[1.0, None])
    first = raw['clips'][0]
    assert first['hd95'] is None and first['asd'] is None        # NaN and inf -> null
    assert first['num_frames'] == 12 and isinstance(first['num_frames'], int)
    assert first['dice'] == pytest.approx(0.75) and first['frames'] == [dict(index=0,
                                                                             dice=0.5)]
    back = load_results(path)                                    # null -> NaN
    assert math.isnan(back['clips'][0]['hd95']) and math.isnan(back['clips'][0]['asd'])
    assert math.isnan(back['summary']['per_label'][1])
    assert back['clips'][1] == raw['clips'][1] and back['ef_cases'][0]['ef_pred'] == 55.5


def test_csv_columns_cells_and_the_paths(tmp_path):
    path = str(tmp_path / 'r.json')
    assert csv_paths(path) == dict(clips=str(tmp_path / 'r_clips.csv'),
                                   ef_cases=str(tmp_path / 'r_ef.csv'))
    dump_results(path, {}, _clips(), _cases())
    header, rows = _read_csv(csv_paths(path)['clips'])
    # the fixed columns in their order, then the other scalar keys sorted; no lists
    assert header == list(CLIP_COLUMNS) + ['alpha', 'zeta']
    row = dict(zip(header, rows[0]))
    assert row['video_id'] == '007' and row['hd95'] == '' and row['iou'] == ''
    assert row['asd'] == 'inf' and row['zeta'] == '1.5' and float(row['dice']) == 0.75
    header, rows = _read_csv(csv_paths(path)['ef_cases'])
    assert header == list(EF_COLUMNS) and len(rows) == 1
    assert dict(zip(header, rows[0]))['ef_ref'] == ''


def test_load_results_from_each_csv(tmp_path):
    path = str(tmp_path / 'r.json')
    dump_results(path, dict(ignored=1), _clips(), _cases())
    clips = load_results(csv_paths(path)['clips'])
    assert clips['summary'] == {} and clips['ef_cases'] == []
    first, second = clips['clips']
    assert first['video_id'] == '007' and second['video_id'] == '8'   # ids stay strings
    assert first['num_frames'] == 12 and isinstance(first['num_frames'], int)
    assert first['dice'] == 0.75 and first['alpha'] == 'x'
    assert math.isnan(first['hd95']) and first['asd'] == math.inf
    assert 'frames' not in first
    cases = load_results(csv_paths(path)['ef_cases'])
    assert cases['clips'] == [] and len(cases['ef_cases']) == 1
    case = cases['ef_cases'][0]
    assert case['case_id'] == '007' and case['ef_pred'] == 55.5
    assert math.isnan(case['ef_ref']) and case['ef_pred_flags'] == 'small_lv'


def test_empty_dump(tmp_path):
    path = str(tmp_path / 'e.json')
    dump_results(path, {}, [], [])
    assert load_results(path) == dict(summary={}, clips=[], ef_cases=[])
    assert _read_csv(csv_paths(path)['clips']) == (list(CLIP_COLUMNS), [])
    assert load_results(csv_paths(path)['clips'])['clips'] == []
