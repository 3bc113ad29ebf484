"""tools/analysis/cross_validate.py: folds, no leakage, and numbers that trace back to the
saved predictions, on a tiny EchoNet-layout folder written here."""
import csv
import datetime
import json
import math
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from echoseg.datasets.echonet import EchoNetDynamicDataset
from echoseg.evaluation.functional import ejection_fraction, simpson_volume
from echoseg.evaluation.functional.postprocess import postprocess_lv
from echoseg.testing import load_clip, load_tool, tiny_segmentor_cfg

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASE = osp.join(ROOT, 'configs', 'baselines', 'fcn_r18_echonet.py')
SIZE, FRAMES = 40, 12
NAMES = ['0XCV0001', '0XCV0002', '0XCV0003', '0XCV0004']


def _tool():
    return load_tool('analysis/cross_validate.py')


def lv_rows(a, b, cx=SIZE / 2, cy=SIZE / 2):
    """21 tracing rows (X1, Y1, X2, Y2): the long axis, then 20 chords of an ellipse of
    vertical semi-axis ``a`` and horizontal ``b``."""
    y = np.linspace(cy - a, cy + a, 22)[1:-1]
    half = b * np.sqrt(np.clip(1 - ((y - cy) / a) ** 2, 0, None))
    return np.vstack([[cx, cy - a, cx, cy + a], np.stack([cx - half, y, cx + half, y], 1)])


def write_folder(root, names=NAMES):
    """Tiny EchoNet layout: a dark LV ellipse that shrinks from ED (frame 2) to ES (8) on
    speckle; every row's Split is TEST (the tool must not depend on the column)."""
    os.makedirs(osp.join(root, 'Videos'))
    yy, xx = np.mgrid[:SIZE, :SIZE]
    axes = lambda t: (13 - 4 * min(abs(t - 2), 6) / 6, 9 - 3 * min(abs(t - 2), 6) / 6)
    efs = {}
    with open(osp.join(root, 'VolumeTracings.csv'), 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['FileName', 'X1', 'Y1', 'X2', 'Y2', 'Frame'])
        for i, name in enumerate(names):
            rng = np.random.default_rng(i)
            vw = cv2.VideoWriter(osp.join(root, 'Videos', name + '.avi'),
                                 cv2.VideoWriter_fourcc(*'MJPG'), 50.0, (SIZE, SIZE), True)
            for t in range(FRAMES):
                a, b = axes(t)
                inside = ((yy - SIZE / 2) / a) ** 2 + ((xx - SIZE / 2) / b) ** 2 <= 1
                frame = np.clip(np.where(inside, 30, 160) + rng.normal(0, 20, inside.shape),
                                0, 255).astype(np.uint8)
                vw.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
            vw.release()
            for t in (8, 2):
                for row in lv_rows(*axes(t)):
                    w.writerow([name + '.avi'] + [f'{v:.4f}' for v in row] + [t])
            efs[name] = 55.0 + 3 * i
    with open(osp.join(root, 'FileList.csv'), 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['FileName', 'EF', 'ESV', 'EDV', 'FrameHeight', 'FrameWidth', 'FPS',
                    'NumberOfFrames', 'Split'])
        for name in names:
            w.writerow([name, efs[name], 30, 70, SIZE, SIZE, 50, FRAMES, 'TEST'])
    return efs


def write_config(directory):
    """The per-frame EchoNet baseline with a tiny model, 4-frame clips at 32x32, training
    videos repeated (a wrapped dataset) so that one epoch learns something; the test
    pipeline resizes without keeping the original masks: the tool must restore them."""
    model = tiny_segmentor_cfg()
    model.pop('type')
    model['backbone'].update(strides=(1, 1, 1, 1))   # 8x8 features of a 32x32 input
    model['decode_head']['loss_decode'] = dict(type='BCEDiceLoss')
    load = "dict(type='LoadEchoVideo'), dict(type='LoadEchoAnnotations'), " \
           "dict(type='SampleClipFrames', num_frames=4), " \
           "dict(type='ResizeClip', scale=(32, 32)), dict(type='PackEchoInputs')"
    path = osp.join(str(directory), 'tiny_echonet.py')
    with open(path, 'w') as f:
        f.write(f'_base_ = [{BASE!r}]\n'
                f'model = dict(_delete_=True, type="EchoVideoSegmentor", **{model!r})\n'
                'train_dataloader = dict(batch_size=2, dataset=dict(_delete_=True, '
                "type='RepeatDataset', times=48, dataset=dict(type='EchoNetDynamicDataset', "
                f"data_root='data/echonet', pipeline=[{load}])))\n"
                f'val_dataloader = dict(dataset=dict(pipeline=[{load}]))\n'
                f'test_dataloader = dict(dataset=dict(pipeline=[{load}]))\n'
                "optim_wrapper = dict(optimizer=dict(type='AdamW', lr=1e-2))\n"
                'default_hooks = dict(logger=dict(interval=1))\n')
    return path


def dice(p, g):
    p, g = p == 1, g == 1
    total = p.sum() + g.sum()
    return 1.0 if total == 0 else 2.0 * (p & g).sum() / total


def test_folds_and_plan():
    tool = _tool()
    names = [f'v{i}' for i in range(7)]
    for k in range(2, 8):
        folds = tool.make_folds(names, k, seed=3)
        flat = [v for f in folds for v in f]
        assert sorted(flat) == names and len(flat) == len(set(flat))      # a partition
        assert max(map(len, folds)) - min(map(len, folds)) <= 1
        assert folds == tool.make_folds(list(reversed(names)), k, seed=3)  # deterministic
    assert [len(f) for f in tool.make_folds(names, 7)] == [1] * 7
    assert any(tool.make_folds(names, 3, s) != tool.make_folds(names, 3, 0) for s in (1, 2))
    with pytest.raises(ValueError, match='between 2 and the number of videos'):
        tool.make_folds(names, 8)

    runs = tool.plan_runs(names, 7, 0, [1, 3, 6], [0, 1])
    assert len(runs) == 3 * 2 * 7
    for run in runs:
        assert len(run['train']) == run['train_size']
        assert not set(run['train']) & set(run['held_out']) and len(run['held_out']) == 1
    by_key = {(r['fold'], r['seed'], r['train_size']): set(r['train']) for r in runs}
    for fold in range(7):      # nested subsets: the learning curve adds videos
        assert by_key[fold, 0, 1] < by_key[fold, 0, 3] < by_key[fold, 0, 6]
        assert by_key[fold, 0, 3] == by_key[fold, 1, 3]
    with pytest.raises(ValueError, match=r'--train-sizes \[5\].*between 1 and 4'):
        tool.plan_runs(names, 3, 0, [1, 5], [0])
    with pytest.raises(RuntimeError, match=r"held-out video\(s\) \['v1'\]"):
        tool.check_disjoint(['v0', 'v1'], ['v1'], 'fold 0')


def test_cross_validation_end_to_end(tmp_path, monkeypatch):
    data = str(tmp_path / 'echonet')
    efs = write_folder(data)
    config = write_config(tmp_path)
    built = []   # every EchoNet dataset the runs build: (test_mode, video ids)
    original = EchoNetDynamicDataset.load_data_list

    def recording(self):
        out = original(self)
        if self.video_ids is not None:
            built.append((self.test_mode, sorted(d['video_id'] for d in out)))
        return out

    monkeypatch.setattr(EchoNetDynamicDataset, 'load_data_list', recording)
    work = tmp_path / 'cv'
    threads = torch.get_num_threads()
    try:
        out = _tool().main([config, '--data-root', data, '--folds', '2', '--train-sizes',
                            '1', '2', '--epochs', '1', '--seeds', '0', '--work-dir',
                            str(work), '--threads', '1', '--keep-checkpoints'])
    finally:
        torch.set_num_threads(threads)

    # the folds partition the videos; every run trains then measures, never on the same
    folds = out['folds']
    assert len(folds) == 2 and sorted(v for f in folds for v in f) == NAMES
    runs = out['runs']
    assert len(runs) == 4 and [(r['train_size'], r['fold']) for r in runs] == [
        (1, 0), (1, 1), (2, 0), (2, 1)]
    assert [m for m, _ in built] == [False, True] * 4
    for i, run in enumerate(runs):
        trained, measured = built[2 * i][1], built[2 * i + 1][1]
        assert not set(trained) & set(measured)
        assert measured == sorted(folds[run['fold']]) and len(trained) == run['train_size']
        assert run['trained_video_ids'] == trained and run['measured_video_ids'] == measured
    assert set(runs[0]['train']) < set(runs[2]['train'])   # the learning curve is nested
    for size in (1, 2):   # every video held out exactly once per size
        assert sorted(v['video_id'] for r in runs if r['train_size'] == size
                      for v in r['videos']) == NAMES

    saved = json.loads((work / 'cross_validation.json').read_text())
    dices = [v['dice_ed'] for r in saved['runs'] for v in r['videos']]
    assert any(0 < d < 1 for d in dices), dices    # the recomputation below is not trivial
    assert saved['settings']['num_folds'] == 2 and saved['settings']['epochs'] == 1
    full = EchoNetDynamicDataset(data_root=data, split='all', pipeline=[])
    infos = {full.get_data_info(i)['video_id']: full.get_data_info(i) for i in range(4)}
    for run in saved['runs']:
        pred_file = np.load(osp.join(run['work_dir'], 'predictions.npz'))
        for video in run['videos']:
            vid = video['video_id']
            pred, gt = pred_file[f'{vid}__pred'], pred_file[f'{vid}__gt']
            # reference masks at the video's own size, as the dataset defines them
            clip = load_clip(infos[vid], num_frames=4)
            np.testing.assert_array_equal(gt, clip['masks'][[0, -1]])
            assert pred.shape == (2, SIZE, SIZE)
            d_ed, d_es = dice(pred[0], gt[0]), dice(pred[1], gt[1])
            assert video['dice_ed'] == pytest.approx(d_ed, abs=1e-9)
            assert video['dice_es'] == pytest.approx(d_es, abs=1e-9)
            assert video['dice'] == pytest.approx((d_ed + d_es) / 2, abs=1e-9)
            assert video['ef_filelist'] == pytest.approx(efs[vid])
            ef_masks = ejection_fraction(simpson_volume(pred[0] == 1),
                                         simpson_volume(pred[1] == 1))
            ef_trace = ejection_fraction(simpson_volume(gt[0] == 1), simpson_volume(gt[1] == 1))
            for key, value in (('ef_masks', ef_masks), ('ef_tracings', ef_trace)):
                if math.isfinite(value):
                    assert video[key] == pytest.approx(value, rel=1e-6)
                    assert video[f'{key}_error'] == pytest.approx(abs(value - efs[vid]))
                else:
                    assert video[key] is None
            with open(osp.join(run['work_dir'], 'videos', f'{vid}.json')) as f:
                whole = json.load(f)
            assert whole['summary']['num_frames'] == FRAMES
            assert video['ef_video'] == whole['ef_mean']
            assert video['num_beats'] == len(whole['beats'])
        # EchoMetric's own summary agrees with the per-video numbers
        assert run['metrics']['Dice_ED'] == pytest.approx(
            np.mean([v['dice_ed'] for v in run['videos']]))
        assert run['metrics']['num_clips'] == len(run['videos'])

    # the table: one row per training size, cells = mean over runs of the run means
    table = (work / 'cross_validation.md').read_text()
    for size in (1, 2):
        row = next(line for line in table.splitlines() if line.startswith(f'| {size} |'))
        cells = [c.strip() for c in row.strip('|').split('|')]
        assert cells[1] == '2' and cells[2] == '4'
        run_means = [np.mean([v['dice'] for v in r['videos']]) for r in saved['runs']
                     if r['train_size'] == size]
        assert cells[5] == f'{np.mean(run_means):.3f} ± {np.std(run_means, ddof=1):.3f}'

    # --load-from: every tensor of the model starts as the checkpoint's (safe loader)
    ckpt = runs[0]['checkpoint']
    assert osp.isfile(ckpt)
    again = _tool().main([config, '--data-root', data, '--leave-one-out', '--train-sizes',
                          '3', '--epochs', '1', '--work-dir', str(tmp_path / 'cv2'),
                          '--load-from', ckpt, '--no-video-ef', '--threads', '1',
                          '--postprocess'])
    torch.set_num_threads(threads)
    assert len(again['folds']) == 4 and all(len(f) == 1 for f in again['folds'])
    for run in again['runs']:
        assert run['init']['tensors_equal'] == run['init']['tensors_in_model'] > 0
        assert not any(name.endswith('.pth') for name in os.listdir(run['work_dir']))
        assert all(v['ef_video'] is None or math.isnan(v['ef_video']) for v in run['videos'])
        # --postprocess: scores of the post-processed masks, and of the raw ones (_raw)
        pred_file = np.load(osp.join(run['work_dir'], 'predictions.npz'))
        for video in run['videos']:
            vid = video['video_id']
            pred, gt = pred_file[f'{vid}__pred'], pred_file[f'{vid}__gt']
            post = postprocess_lv(pred)
            for i, phase in enumerate(('ed', 'es')):
                assert video[f'dice_{phase}'] == pytest.approx(dice(post[i], gt[i]), abs=1e-9)
                assert video[f'dice_{phase}_raw'] == pytest.approx(dice(pred[i], gt[i]),
                                                                   abs=1e-9)
            ef_raw = ejection_fraction(simpson_volume(pred[0] == 1),
                                       simpson_volume(pred[1] == 1))
            if math.isfinite(ef_raw):
                assert video['ef_masks_raw'] == pytest.approx(ef_raw, rel=1e-6)
    assert again['settings']['postprocess'] is True
    table = (tmp_path / 'cv2' / 'cross_validation.md').read_text()
    assert 'Dice ED+ES as predicted' in table and 'largest component' in table


def test_bad_inputs(tmp_path, capsys):
    data = str(tmp_path / 'echonet')
    write_folder(data, NAMES[:3])
    config = write_config(tmp_path)
    tool = _tool()
    evil = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'payload': datetime.date(2020, 1, 1)}, str(evil))
    cases = [
        (['--load-from', str(evil)], 'evil.pth: refused to load'),
        (['--load-from', str(tmp_path / 'none.pth')], 'none.pth: checkpoint file not found'),
        (['--data-root', str(tmp_path / 'nowhere')], 'nowhere: data folder not found'),
        (['--folds', '4'], 'between 2 and the number of videos'),
        (['--train-sizes', '3'], '--train-sizes [3]'),
    ]
    for extra, message in cases:
        argv = [config, '--data-root', data, '--work-dir', str(tmp_path / 'w')] + extra
        with pytest.raises(SystemExit) as exc:
            tool.main(argv)
        assert exc.value.code == 2
        assert message in capsys.readouterr().err


def test_default_data_root(monkeypatch, tmp_path):
    tool = _tool()
    monkeypatch.setenv('ECHOSEG_ECHODATA', str(tmp_path))
    assert tool.default_data_root() == osp.join(str(tmp_path), 'echonet_sample')
    monkeypatch.delenv('ECHOSEG_ECHODATA')
    assert tool.default_data_root() == osp.join(osp.dirname(ROOT), 'shared', 'echodata',
                                                'echonet_sample')
