"""echoseg.analysis.video_ef (tools/analysis/ef_from_videos.py): agreement by hand and a
tiny EchoNet-layout run."""
import csv
import json
import os.path as osp

import numpy as np
import pytest
import torch

from echoseg import testing
from echoseg.analysis import video_ef as tool
from echoseg.apis import init_model
from echoseg.io import write_video

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASELINE = osp.join(ROOT, 'configs', 'baselines', 'fcn_r18_synthetic.py')


def test_agreement_equals_a_hand_computation():
    nan = float('nan')
    rows = [dict(ef_ref=50.0, ef_frames=55.0, ef_smoothed=51.0),
            dict(ef_ref=60.0, ef_frames=52.0, ef_smoothed=61.0),
            dict(ef_ref=40.0, ef_frames=nan, ef_smoothed=45.0),   # no beat (frames)
            dict(ef_ref=nan, ef_frames=30.0, ef_smoothed=30.0)]   # no reference
    out = tool.agreement(rows)
    assert out['ef_frames']['mae'] == pytest.approx((5 + 8) / 2)
    assert out['ef_frames']['bias'] == pytest.approx((5 - 8) / 2)
    assert out['ef_frames']['n'] == 2 and out['ef_frames']['n_no_beat'] == 1
    assert out['ef_smoothed']['mae'] == pytest.approx((1 + 1 + 5) / 3)
    assert out['ef_smoothed']['n_no_beat'] == 0


def _beating(n, period, h=40, w=40):
    yy, xx = np.mgrid[:h, :w]
    frames = []
    for i in range(n):
        r = 11 + 5 * np.cos(2 * np.pi * i / period)
        frames.append(np.where((yy - h / 2) ** 2 + (xx - w / 2) ** 2 <= r * r, 20, 180))
    return np.array(frames, np.uint8)


def test_tool_on_a_tiny_echonet_layout(tmp_path):
    root = tmp_path / 'echonet'
    (root / 'Videos').mkdir(parents=True)
    write_video(str(root / 'Videos' / 'A.avi'), _beating(40, 12), fps=25.0)
    write_video(str(root / 'Videos' / 'B.avi'), _beating(30, 10), fps=25.0)
    with open(root / 'FileList.csv', 'w') as f:
        f.write('FileName,EF,FPS,Split\nA,55.5,25,TEST\nB.avi,40,25,TEST\n'
                'C,50,25,TEST\nD,60,25,TRAIN\n')   # C has no video, D another split
    assert [r['video'] for r in tool.read_filelist(str(root), 'test')] == ['A', 'B']
    config = testing.write_tiny_config(str(tmp_path), BASELINE, size=32, num_frames=3)
    ckpt = str(tmp_path / 'tiny.pth')
    torch.save({'state_dict': init_model(config).state_dict(), 'meta': {}}, ckpt)
    out = tmp_path / 'out'
    summary = tool.main([config, ckpt, str(root), '--out-dir', str(out), '--split', 'TEST'])
    with open(out / 'ef_per_video.csv') as f:
        rows = list(csv.DictReader(f))
    assert [r['video'] for r in rows] == ['A', 'B']
    assert [int(r['num_frames']) for r in rows] == [40, 30]
    saved = json.loads((out / 'ef_summary.json').read_text())
    assert saved['num_videos'] == 2
    for method in ('ef_frames', 'ef_smoothed'):
        pairs = [(float(r[method]), float(r['ef_ref'])) for r in rows if r[method]]
        if pairs:  # the hand computation from the CSV
            mae = np.mean([abs(p - q) for p, q in pairs])
            assert summary['agreement'][method]['mae'] == pytest.approx(mae, abs=1e-3)
        assert summary['agreement'][method]['n'] + \
            summary['agreement'][method]['n_no_beat'] == 2


def test_missing_filelist_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='FileList.csv'):
        tool.read_filelist(str(tmp_path))


def test_labelled_phases_from_the_tracings(tmp_path):
    testing.write_echonet_folder(str(tmp_path), [('A', 30, 4, 12, 50.0),
                                                 ('B', 30, 20, 9, 50.0)])
    labels = tool.labelled_phases(str(tmp_path))
    assert labels == {'A': dict(ed=4, es=12), 'B': dict(ed=20, es=9)}   # ED after ES too
    assert tool.labelled_phases(str(tmp_path / 'none')) == {}


def test_phase_errors_of_both_rules_and_their_summary():
    from types import SimpleNamespace
    period, n = 40, 120
    keys = np.array([0.0, 0.25, 0.45, 0.65, 1.0]) * period        # ES, hump, dip, ED, ES
    areas = np.interp(np.arange(n) % period, keys, [50.0, 100, 78, 95, 50])
    from echoseg.evaluation.functional.cardiac_cycle import beats_from_curves
    cycle, *_ = beats_from_curves(areas, areas, fps=50.0)
    result = SimpleNamespace(ed_frames=cycle.ed_frames, es_frames=cycle.es_frames,
                             areas=areas, volumes=areas, fps=50.0, curve='area')
    row = tool.phase_errors(result, dict(ed=66, es=80))            # the second beat
    assert row['ed_error'] == 0 and row['es_error'] == 0
    assert row['ed_error_max_rule'] == 16 and row['es_error_max_rule'] == 0   # the hump
    rows = [dict(row, fps=50.0), dict(ed_label=3, es_label=9, ed_error=None, es_error=2,
                                      ed_error_max_rule=None, es_error_max_rule=2,
                                      fps=25.0)]
    summary = tool.phase_summary(rows)
    assert summary['phase']['ed'] == dict(n=1, median_frames=0.0, mean_frames=0.0,
                                          median_ms=0.0, mean_ms=0.0, n_without_event=1)
    assert summary['phase']['es']['mean_frames'] == pytest.approx(1.0)
    assert summary['phase']['es']['mean_ms'] == pytest.approx((0 + 2 * 40.0) / 2)
    assert summary['max_rule']['ed']['median_ms'] == pytest.approx(16 * 20.0)
