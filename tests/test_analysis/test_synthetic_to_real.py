"""echoseg.analysis.synthetic_to_real (tools/experiments/synthetic_to_real.py) on a tiny
folder in EchoNet-Dynamic's layout.

A tiny model is trained for one iteration on tiny synthetic clips, then evaluated; the
JSON is checked against Dice and EF error recomputed here from the written predictions
and the masks of the tracings.
"""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from echoseg.analysis import synthetic_to_real as tool
from echoseg.testing import write_echonet_folder, write_tiny_config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASELINE = osp.join(ROOT, 'configs', 'baselines', 'fcn_r18_synthetic.py')
SIZE = 48
#: name, frames, ED frame, ES frame, FileList EF (ED after ES in the second video)
CASES = [('0XTINY1', 16, 3, 11, 55.0), ('0XTINY2', 14, 9, 2, 40.0)]


def dice(a, b):
    a, b = a.astype(bool), b.astype(bool)
    total = a.sum() + b.sum()
    return 1.0 if total == 0 else 2.0 * (a & b).sum() / total


def test_trains_evaluates_and_reports_consistent_numbers(tmp_path, capsys):
    data = str(tmp_path / 'echonet')
    traced = write_echonet_folder(data, CASES, size=SIZE, fan=True)
    masks = {f'{name}_{phase}': m for name, ph in traced.items() for phase, m in ph.items()}
    cfg = write_tiny_config(tmp_path, BASELINE, num_videos=2, size=32, num_frames=3)
    work = str(tmp_path / 'work')
    summary = tool.main(['--config', cfg, '--data-root', data, '--work-dir', work,
                         '--num-synthetic', '2', '--cfg-options', 'train_cfg.max_epochs=1'])
    with open(osp.join(work, 'synthetic_to_real.json')) as f:
        written = json.load(f)
    assert written == json.loads(json.dumps(summary))
    preds = np.load(osp.join(work, 'predictions.npz'))
    assert sorted(preds.files) == sorted(masks)
    rows = {r['video_id']: r for r in written['videos']}
    assert sorted(rows) == sorted(c[0] for c in CASES)
    dices = []
    for name, _, _, _, ef in CASES:
        for phase in ('ED', 'ES'):
            pred = preds[f'{name}_{phase}']
            assert pred.shape == (SIZE, SIZE)               # the video's own resolution
            expected = dice(pred == 1, masks[f'{name}_{phase}'])
            assert rows[name][f'dice_{phase.lower()}'] == pytest.approx(expected, abs=1e-6)
            dices.append(expected)
        r = rows[name]
        assert r['ef_ref'] == pytest.approx(ef)             # FileList.csv's EF
        assert r['ef_abs_error'] == pytest.approx(abs(r['ef_pred'] - ef))
    assert written['metrics']['mDice'] == pytest.approx(np.mean(dices), abs=1e-6)
    assert written['metrics']['num_frames'] == 4 and written['train_seconds'] > 0
    with open(osp.join(work, 'synthetic_vs_real.png'), 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    png = cv2.imread(osp.join(work, 'synthetic_vs_real.png'))
    assert png.shape[0] > 2 * 112 - 10                      # a real row and a synthetic row
    assert 'mean Dice' in capsys.readouterr().out


def test_missing_data_root_is_named(tmp_path):
    missing = str(tmp_path / 'nowhere')
    with pytest.raises(FileNotFoundError, match='nowhere'):
        tool.main(['--data-root', missing, '--work-dir', str(tmp_path / 'w')])
    os.makedirs(osp.join(missing, 'Videos'))
    with pytest.raises(FileNotFoundError, match='FileList.csv'):
        tool.main(['--data-root', missing, '--work-dir', str(tmp_path / 'w')])
