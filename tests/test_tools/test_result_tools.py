"""tools/analysis/ef_plots.py, compare_results.py and results_table.py, run as commands on
EchoMetric dumps written here."""
import json
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from echoseg.evaluation.results_io import csv_paths, dump_results, load_results

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def run_tool(name, *args):
    """``python tools/analysis/<name>.py ARGS`` from the repository root; its stdout."""
    proc = subprocess.run([sys.executable, osp.join('tools', 'analysis', f'{name}.py'),
                           *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def make_dump(path, dice, ef_pred=None, ef_ref=None, summary=None, num_labelled=2):
    clips = [dict(video_id=f'v{i}', patient_id=f'p{i}', view='4CH', num_frames=10,
                  num_labelled=num_labelled, dice=float(d), iou=float(d / (2 - d)),
                  hd95=5.0 + i, asd=1.0 + 0.1 * i, distance_unit='mm', volume_unit='ml',
                  frames=[]) for i, d in enumerate(dice)]
    cases = []
    if ef_pred is not None:
        cases = [dict(case_id=f'v{i}', patient_id=f'p{i}', mode='single', video_ids=f'v{i}',
                      views='4CH', ef_pred=float(p), ef_ref=float(r), edv_pred=100.0 + p,
                      edv_ref=100.0 + r, esv_pred=40.0 + i, esv_ref=41.0 + i,
                      volume_unit='ml', ef_ref_source='masks')
                 for i, (p, r) in enumerate(zip(ef_pred, ef_ref))]
    dump_results(str(path), summary or {}, clips, cases)
    return str(path)


def test_dump_roundtrip_with_nan(tmp_path):
    path = make_dump(tmp_path / 'r.json', [0.9, float('nan')], [50.0, 60.0],
                     [52.0, float('nan')])
    data = load_results(path)
    assert np.isnan(data['clips'][1]['dice']) and np.isnan(data['ef_cases'][1]['ef_ref'])
    rows = load_results(csv_paths(path)['clips'])['clips']
    assert rows[0]['dice'] == 0.9 and np.isnan(rows[1]['dice'])
    ef_rows = load_results(csv_paths(path)['ef_cases'])['ef_cases']
    assert ef_rows[0]['ef_ref'] == 52.0


def test_ef_plots_writes_pngs(tmp_path):
    rng = np.random.default_rng(0)
    ref = rng.uniform(30, 70, 12)
    path = make_dump(tmp_path / 'r.json', np.full(12, 0.9), ref + rng.normal(0, 3, 12), ref)
    written = run_tool('ef_plots', path, '--out-dir', tmp_path / 'plots').split()
    assert len(written) == 6  # EF, EDV, ESV x (regression, Bland-Altman)
    for p in written:
        with open(p, 'rb') as f:
            assert f.read(8) == b'\x89PNG\r\n\x1a\n'
        assert osp.getsize(p) > 5000
    # from the EF csv alone
    written = run_tool('ef_plots', csv_paths(path)['ef_cases'], '--quantities', 'EF',
                       '--out-dir', tmp_path / 'csv').split()
    assert len(written) == 2 and all(osp.isfile(p) for p in written)


def test_compare_results_matches_scipy(tmp_path):
    rng = np.random.default_rng(1)
    a = rng.uniform(0.85, 0.95, 15)
    b = a - rng.normal(0.01, 0.01, 15)
    pa = make_dump(tmp_path / 'a' / 'r.json', a)
    pb = make_dump(tmp_path / 'b' / 'r.json', list(b) + [0.5])  # one extra clip in B
    out = run_tool('compare_results', pa, pb, '--names', 'ours', 'base', '--out',
                   tmp_path / 'cmp.json')
    res = json.loads((tmp_path / 'cmp.json').read_text())
    ref = stats.wilcoxon(a, b)
    assert res['n'] == 15 and res['only_in_b'] == ['v15']
    assert res['mean_diff'] == pytest.approx(np.mean(a - b))
    assert res['pvalue'] == pytest.approx(ref.pvalue)
    assert 'Wilcoxon' in out and res['names'] == ['ours', 'base']


def test_results_table(tmp_path):
    summary = dict(mDice=0.9123, mIoU=0.84, mHD95=4.567, mASD=1.5, EF_corr=0.8,
                   EF_bias=-1.25, EF_sd=4.0, EF_MAE=3.3)
    pa = make_dump(tmp_path / 'ours' / 'r.json', [0.9, 0.92], summary=summary)
    pb = make_dump(tmp_path / 'base' / 'r.json', [0.8, 0.9], [50.0, 40.0, 30.0],
                   [52.0, 41.0, 33.0])
    table = run_tool('results_table', pa, csv_paths(pb)['clips'], '--out', tmp_path / 't.md')
    lines = table.strip().splitlines()
    assert lines[0].startswith('| method | mDice (%)') and '(mm)' in lines[0]
    ours = lines[2].split('|')
    assert ours[1].strip() == 'ours' and ours[2].strip() == '91.23'
    assert ours[4].strip() == '4.57' and ours[7].strip() == '-1.25'
    base = lines[3].split('|')
    assert base[2].strip() == '85.00'  # recomputed from the clip rows
    assert (tmp_path / 't.md').read_text() == table
    # EF agreement recomputed from the EF cases when there is no summary
    table = run_tool('results_table', pb, '--format', 'csv', '--names', 'b')
    row = table.strip().splitlines()[1].split(',')
    diffs = np.array([-2.0, -1.0, -3.0])
    assert float(row[5]) == pytest.approx(stats.pearsonr([50, 40, 30], [52, 41, 33])[0],
                                          abs=1e-3)
    assert float(row[6]) == pytest.approx(diffs.mean(), abs=0.01)
    assert float(row[8]) == pytest.approx(np.abs(diffs).mean(), abs=0.01)
