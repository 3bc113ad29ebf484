"""echoseg.analysis.cross_validation (tools/analysis/cross_validate.py): folds, no leakage,
and numbers that trace back to the saved predictions, on a tiny EchoNet-layout folder."""
import datetime
import hashlib
import json
import math
import os
import os.path as osp

import numpy as np
import pytest
import torch

from echoseg.analysis import cross_validation as tool
from echoseg.datasets.echonet import EchoNetDynamicDataset
from echoseg.evaluation.functional import ejection_fraction, simpson_volume
from echoseg.evaluation.functional.postprocess import postprocess_lv
from echoseg.testing import load_clip, write_echonet_folder, write_tiny_echonet_config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASE = osp.join(ROOT, 'configs', 'baselines', 'fcn_r18_echonet.py')
SIZE, FRAMES = 40, 12
NAMES = ['0XCV0001', '0XCV0002', '0XCV0003', '0XCV0004']


def write_folder(root, names=NAMES):
    """A dark LV ellipse shrinking from ED (frame 2) to ES (8) on speckle, EF 55 + 3 i;
    every row's Split is TEST (the tool must not depend on the column). {name: EF}."""
    videos = [(name, FRAMES, 2, 8, 55.0 + 3 * i) for i, name in enumerate(names)]
    write_echonet_folder(root, videos, size=SIZE)
    return {name: ef for name, _, _, _, ef in videos}


def write_config(directory):
    """The per-frame EchoNet baseline, tiny; its test pipeline resizes without keeping
    the original masks: the tool must restore them."""
    return write_tiny_echonet_config(directory, BASE)


def dice(p, g):
    p, g = p == 1, g == 1
    total = p.sum() + g.sum()
    return 1.0 if total == 0 else 2.0 * (p & g).sum() / total


def test_folds_and_plan():
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
        out = tool.main([config, '--data-root', data, '--folds', '2', '--train-sizes',
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
            # the phase check: labelled ED (frame 2) / ES (8) to the nearest picked one
            for event, labelled in (('ed', 2), ('es', 8)):
                found = whole[f'{event}_frames']
                expect = min(abs(f - labelled) for f in found) if found else None
                assert video[f'{event}_frame_error'] == expect
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
    again = tool.main([config, '--data-root', data, '--leave-one-out', '--train-sizes',
                          '3', '--epochs', '1', '--work-dir', str(tmp_path / 'cv2'),
                          '--load-from', ckpt, '--no-video-ef', '--threads', '1',
                          '--postprocess'])
    torch.set_num_threads(threads)
    assert len(again['folds']) == 4 and all(len(f) == 1 for f in again['folds'])
    for run in again['runs']:
        assert run['init']['tensors_equal'] == run['init']['tensors_in_model'] > 0
        with open(ckpt, 'rb') as f:
            assert run['init']['checkpoint_sha256'] == hashlib.sha256(f.read()).hexdigest()
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


class Interrupted(Exception):
    """Stands for a killed process in the resume test."""


def _log_text(run_dir):
    """The MMEngine logs of a run directory, oldest first: [text, ...]."""
    logs = sorted(osp.join(root, n) for root, _, names in os.walk(run_dir) for n in names
                  if n.endswith('.log'))
    return [open(p).read() for p in logs]


def test_resume_reuses_finished_runs_and_continues_an_interrupted_one(tmp_path, monkeypatch,
                                                                    capsys):
    data = str(tmp_path / 'echonet')
    write_folder(data)
    config = write_config(tmp_path)
    work = tmp_path / 'cv'
    argv = [config, '--data-root', data, '--folds', '2', '--epochs', '2', '--seeds', '0',
            '--work-dir', str(work), '--threads', '1', '--no-video-ef', '--resume',
            '--checkpoint-interval', '1']
    original = tool.run_recorder

    def interrupting(load_from, init_path=None, resumed=False):
        recorder = original(load_from, init_path, resumed)
        if 'fold1' in init_path:     # the second run dies after its first epoch's checkpoint
            def after_train_epoch(runner):
                raise Interrupted(runner.epoch)
            recorder.after_train_epoch = after_train_epoch
        return recorder

    threads = torch.get_num_threads()
    monkeypatch.setattr(tool, 'run_recorder', interrupting)
    try:
        with pytest.raises(Interrupted):
            tool.main(argv)
        monkeypatch.setattr(tool, 'run_recorder', original)
        first = json.loads((work / 'all_seed0_fold0' / 'run.json').read_text())
        stamp = os.stat(work / 'all_seed0_fold0' / 'run.json').st_mtime_ns
        assert not (work / 'all_seed0_fold1' / 'run.json').exists()
        assert (work / 'all_seed0_fold1' / 'epoch_1.pth').is_file()
        out = tool.main(argv)
    finally:
        torch.set_num_threads(threads)
    reused, resumed = out['runs']
    # the finished run is read back, not retrained: same file, same numbers
    assert reused['reused'] is True
    assert os.stat(work / 'all_seed0_fold0' / 'run.json').st_mtime_ns == stamp
    assert [v['dice'] for v in reused['videos']] == [v['dice'] for v in first['videos']]
    assert len(_log_text(work / 'all_seed0_fold0')) == 1
    # the interrupted one continues from its epoch-1 checkpoint and trains epoch 2 only
    assert resumed['resumed_from'].endswith('epoch_1.pth') and not resumed.get('reused')
    before, after = _log_text(work / 'all_seed0_fold1')
    assert 'Epoch(train) [1]' in before and 'Epoch(train) [2]' not in before
    assert 'Epoch(train) [2]' in after and 'Epoch(train) [1]' not in after
    assert json.loads((work / 'all_seed0_fold1' / 'run.json').read_text())['run_key'] == \
        resumed['run_key'] != reused['run_key']
    # the whole test clip is saved beside the ED/ES masks; its flicker is the record's
    for run in out['runs']:
        pred_file = np.load(osp.join(run['work_dir'], 'predictions.npz'))
        for video in run['videos']:
            vid = video['video_id']
            clip, index = pred_file[f'{vid}__clip'], pred_file[f'{vid}__clip_index']
            assert clip.shape == (4, SIZE, SIZE)
            np.testing.assert_array_equal(clip[index], pred_file[f'{vid}__pred'])
            areas = (clip == 1).sum(axis=(1, 2)).astype(float)
            if areas[index[0]] > 0:
                expect = (np.abs(np.diff(areas)).sum() - abs(areas[-1] - areas[0])) / (
                    3 * areas[index[0]])
                assert video['tc_flicker'] == pytest.approx(expect)
    # other settings in the same work dir: refused before any training, naming the file
    with pytest.raises(SystemExit) as exc:
        tool.main(argv[:6] + ['3'] + argv[7:])       # --epochs 3
    assert exc.value.code == 2
    assert 'all_seed0_fold0/run.json: a finished run of other settings' in \
        capsys.readouterr().err
    torch.set_num_threads(threads)


def test_phase_error_summary_by_brute_force():
    """Median / mean frame error over every (run, video) pair, milliseconds from each
    video's own frame rate; records written before the error keys existed are read from
    their picked frames."""
    runs = [dict(videos=[
        dict(ed_frame=10, es_frame=20, video_ed_frames=[3, 12], video_es_frames=[19],
             fps=50.0),
        dict(ed_frame=40, es_frame=55, video_ed_frames=[], video_es_frames=[50, 70],
             fps=25.0)]),
        dict(videos=[dict(ed_frame=5, es_frame=9, ed_frame_error=1, es_frame_error=0,
                          video_ed_frames=[6], video_es_frames=[9], fps=None)])]
    for video in runs[0]['videos']:
        video.update(tool.video_phase_errors(video))
    assert runs[0]['videos'][0]['ed_frame_error'] == 2
    assert runs[0]['videos'][1]['ed_frame_error'] is None    # no ED picked
    assert runs[0]['videos'][1]['es_frame_error'] == 5
    del runs[0]['videos'][0]['es_frame_error']                 # an older record
    got = tool.phase_error_summary(runs)
    ed, es = [2.0, 1.0], [1.0, 5.0, 0.0]
    assert got['ed']['n'] == 2 and got['es']['n'] == 3
    assert got['ed']['median_frames'] == np.median(ed)
    assert got['es']['mean_frames'] == pytest.approx(np.mean(es))
    assert got['es']['median_ms'] == pytest.approx(np.median([1000 / 50, 5000 / 25]))
    assert got['ed']['median_ms'] == pytest.approx(2000 / 50)
