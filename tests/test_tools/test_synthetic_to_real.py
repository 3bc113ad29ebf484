"""tools/analysis/synthetic_to_real.py on a tiny folder in EchoNet-Dynamic's layout.

A tiny model is trained for one iteration on tiny synthetic clips, then evaluated; the
JSON is checked against Dice and EF error recomputed here from the written predictions
and masks drawn here from the tracings.
"""
import csv
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from echoseg.testing import load_tool, write_tiny_config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASELINE = osp.join(ROOT, 'configs', 'baselines', 'fcn_r18_synthetic.py')
SIZE = 48
# name, frames, {frame: (semi-axis a, semi-axis b)} of an elliptic LV, FileList EF
CASES = [('0XTINY1', 16, {3: (16, 10), 11: (12, 7)}, 55.0),
         ('0XTINY2', 14, {9: (17, 11), 2: (13, 8)}, 40.0)]


def tracing_rows(a, b, cx=SIZE / 2, cy=SIZE / 2):
    """EchoNet's 21 rows: the long axis, then 20 horizontal chords from top to bottom."""
    rows = [(cx, cy - a, cx, cy + a)]
    for y in np.linspace(cy - a, cy + a, 22)[1:-1]:
        half = b * np.sqrt(max(0.0, 1 - ((y - cy) / a) ** 2))
        rows.append((cx - half, y, cx + half, y))
    return rows


def write_folder(root):
    os.makedirs(osp.join(root, 'Videos'))
    with open(osp.join(root, 'FileList.csv'), 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['FileName', 'EF', 'ESV', 'EDV', 'FrameHeight', 'FrameWidth', 'FPS',
                    'NumberOfFrames', 'Split'])
        for name, n, _, ef in CASES:
            w.writerow([name, ef, 40, 80, SIZE, SIZE, 50, n, 'TEST'])
    masks = {}
    with open(osp.join(root, 'VolumeTracings.csv'), 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['FileName', 'X1', 'Y1', 'X2', 'Y2', 'Frame'])
        for name, _, frames, _ in CASES:
            for frame, (a, b) in frames.items():
                rows = tracing_rows(a, b)
                for r in rows:
                    w.writerow([name + '.avi'] + [f'{v:.4f}' for v in r] + [frame])
                pts = np.array(rows)
                poly = np.concatenate([pts[1:, :2], pts[1:, 2:][::-1]])
                mask = np.zeros((SIZE, SIZE), np.uint8)
                cv2.fillPoly(mask, [np.round(poly).astype(np.int32)], 1)
                phase = 'ED' if a == max(v[0] for v in frames.values()) else 'ES'
                masks[f'{name}_{phase}'] = mask
    rng = np.random.default_rng(0)
    fan = np.zeros((SIZE, SIZE), np.uint8)
    cv2.fillConvexPoly(fan, np.array([[SIZE // 2, 0], [0, SIZE // 2], [0, SIZE - 1],
                                      [SIZE - 1, SIZE - 1], [SIZE - 1, SIZE // 2]]), 1)
    for name, n, _, _ in CASES:
        vw = cv2.VideoWriter(osp.join(root, 'Videos', name + '.avi'),
                             cv2.VideoWriter_fourcc(*'MJPG'), 50.0, (SIZE, SIZE), True)
        for _ in range(n):
            frame = rng.integers(20, 200, (SIZE, SIZE)).astype(np.uint8) * fan
            vw.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
        vw.release()
    return masks


def dice(a, b):
    a, b = a.astype(bool), b.astype(bool)
    total = a.sum() + b.sum()
    return 1.0 if total == 0 else 2.0 * (a & b).sum() / total


def test_trains_evaluates_and_reports_consistent_numbers(tmp_path, capsys):
    data = str(tmp_path / 'echonet')
    masks = write_folder(data)
    cfg = write_tiny_config(tmp_path, BASELINE, num_videos=2, size=32, num_frames=3)
    work = str(tmp_path / 'work')
    tool = load_tool('analysis/synthetic_to_real.py')
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
    for name, _, _, ef in CASES:
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
    tool = load_tool('analysis/synthetic_to_real.py')
    missing = str(tmp_path / 'nowhere')
    with pytest.raises(FileNotFoundError, match='nowhere'):
        tool.main(['--data-root', missing, '--work-dir', str(tmp_path / 'w')])
    os.makedirs(osp.join(missing, 'Videos'))
    with pytest.raises(FileNotFoundError, match='FileList.csv'):
        tool.main(['--data-root', missing, '--work-dir', str(tmp_path / 'w')])
