"""echoseg.analysis.learning_curve (tools/experiments/learning_curve.py): pooled per-video
cells, arms, leakage check."""
import json
import os.path as osp

import numpy as np
import pytest

from echoseg.analysis import learning_curve


def _video(vid, dice, ef_err, beat=True):
    return dict(video_id=vid, dice_ed=dice, dice_es=dice, dice=dice, hd95=1.0,
                ef_masks_error=ef_err, ef_video_error=ef_err if beat else None,
                ef_video=50.0 if beat else None)


def _write(tmp_path, name, load_from, train_sizes, runs, no_video_ef=False):
    d = tmp_path / name
    d.mkdir()
    settings = dict(config='configs/x.py', load_from=load_from, train_sizes=train_sizes,
                    num_folds=len(runs), seeds=[0], command=f'cross_validate {name}',
                    no_video_ef=no_video_ef)
    (d / 'cross_validation.json').write_text(json.dumps(dict(settings=settings, runs=runs)))
    return str(d)


def _run(trained, videos):
    return dict(trained_video_ids=trained, measured_video_ids=[v['video_id'] for v in videos],
                videos=videos, epochs=20, work_dir='w')


def test_cells_pool_every_held_out_video_and_split_arms(tmp_path, capsys):
    # 2 folds at N = 1: fold a measures 2 videos, fold b one (one without a beat)
    small = _write(tmp_path, 'small', None, [1], [
        _run(['v3'], [_video('v1', 0.5, 10.0), _video('v2', 0.7, 20.0)]),
        _run(['v1'], [_video('v3', 0.9, 30.0, beat=False)])])
    big = _write(tmp_path, 'big', 'ckpt.pth', None, [
        _run(['v2', 'v3'], [_video('v1', 0.8, 4.0)]),
        _run(['v1', 'v2', 'v3'], [_video('v4', 0.6, 6.0)])])
    out = tmp_path / 'lc.json'
    assert learning_curve.main([small, big, '--json', str(out)]) == 0
    numbers = json.loads(out.read_text())
    scratch = numbers['configs/x.py (scratch)']['1']
    # brute force: the three per-video values, sd with ddof 1
    assert scratch['held_out'] == 3 and scratch['runs'] == 2 and scratch['no_ef'] == 1
    assert scratch['dice']['mean'] == pytest.approx(0.7)
    assert scratch['dice']['sd'] == pytest.approx(np.std([0.5, 0.7, 0.9], ddof=1))
    # the video without a beat has no whole-video EF error: 2 values, not 3
    assert scratch['ef_video_error']['n'] == 2
    assert scratch['ef_video_error']['mean'] == pytest.approx(15.0)
    pre = numbers['configs/x.py (synthetic-pretrained)']['all']
    assert pre['dice']['mean'] == pytest.approx(0.7) and pre['held_out'] == 2
    text = capsys.readouterr().out
    assert 'all others (2-3)' in text and 'cross_validate big' in text


def test_a_video_trained_on_and_measured_is_refused(tmp_path, capsys):
    leak = _write(tmp_path, 'leak', None, [1], [_run(['v1'], [_video('v1', 0.9, 1.0)])])
    assert learning_curve.main([leak]) == 2
    err = capsys.readouterr().err
    assert 'both trained on and measured' in err and 'v1' in err


def test_a_folder_without_results_is_named(tmp_path, capsys):
    assert learning_curve.main([str(tmp_path)]) == 2
    assert osp.join(str(tmp_path), 'cross_validation.json') in capsys.readouterr().err


def test_runs_without_whole_video_ef_count_no_missing_beats(tmp_path, capsys):
    d = _write(tmp_path, 'noef', None, [1], [_run(['v1'], [_video('v2', 0.8, 3.0, beat=False)])],
               no_video_ef=True)
    out = tmp_path / 'n.json'
    assert learning_curve.main([d, '--json', str(out)]) == 0
    cell = json.loads(out.read_text())['configs/x.py (scratch)']['1']
    assert cell['no_ef'] == 0 and cell['ef_video_error']['n'] == 0
    assert 'not measured' in capsys.readouterr().out


def test_post_processed_runs_are_their_own_arm_with_the_raw_dice(tmp_path, capsys):
    raw_run = _run(['v2'], [_video('v1', 0.8, 4.0)])
    post_videos = [dict(_video('v1', 0.9, 4.0), dice_raw=0.6),
                   dict(_video('v3', 0.7, 4.0), dice_raw=0.4)]
    plain = _write(tmp_path, 'plain', 'ckpt.pth', [1], [raw_run])
    post = _write(tmp_path, 'post', 'ckpt.pth', [1], [_run(['v2'], post_videos)])
    settings_path = tmp_path / 'post' / 'cross_validation.json'
    data = json.loads(settings_path.read_text())
    data['settings']['postprocess'] = True
    settings_path.write_text(json.dumps(data))
    out = tmp_path / 'lc.json'
    assert learning_curve.main([plain, post, '--json', str(out)]) == 0
    numbers = json.loads(out.read_text())
    cell = numbers['configs/x.py (synthetic-pretrained, post-processed masks)']['1']
    assert cell['dice']['mean'] == pytest.approx(0.8)
    assert cell['dice_raw']['mean'] == pytest.approx(0.5)
    assert numbers['configs/x.py (synthetic-pretrained)']['1']['dice']['mean'] == 0.8
    assert 'Dice ED+ES as predicted' in capsys.readouterr().out
