"""echoseg.analysis.method_table (tools/analysis/method_table.py): stage hashes, reuse and
resumption of the stages, the aggregation, the table and the plot, on tiny configs and a
tiny EchoNet-layout folder."""
import json
import os
import os.path as osp
import signal
import statistics

import cv2
import numpy as np
import pytest
import torch

from echoseg.analysis import method_table as mt
from echoseg.testing import (run_train_tool, write_derived_config, write_echonet_folder,
                             write_sigkill_config, write_tiny_config,
                             write_tiny_echonet_config)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SYNTHETIC = osp.join(ROOT, 'configs', 'baselines', 'fcn_r18_synthetic.py')
ECHONET = osp.join(ROOT, 'configs', 'baselines', 'fcn_r18_echonet.py')
NAMES = ['0XMT0001', '0XMT0002', '0XMT0003', '0XMT0004']


def write_setup(tmp_path, alternative=None, synthetic_videos=4, folds=2,
                name='protocol.py'):
    """Tiny configs (a 2-epoch synthetic pretraining, a 1-epoch recipe), a 4-video folder
    and a one-row protocol; returns (protocol path, data root)."""
    data = str(tmp_path / 'echonet')
    if not osp.isdir(data):
        write_echonet_folder(data, [(n, 12, 2, 8, 55.0 + 3 * i) for i, n in enumerate(NAMES)])
    for sub in ('pre', 'ft'):
        (tmp_path / sub).mkdir(exist_ok=True)
    pre = write_derived_config(tmp_path / 'pre', 'pre.py',
                               write_tiny_config(tmp_path / 'pre', SYNTHETIC),
                               'train_cfg = dict(max_epochs=2)\n')
    ft = write_tiny_echonet_config(tmp_path / 'ft', ECHONET)
    recipe = write_derived_config(
        tmp_path / 'ft', 'recipe.py', ft,
        "train_cfg = dict(max_epochs=1)\nparam_scheduler = [dict(type='PolyLR', power=0.9, "
        "begin=0, end=1, by_epoch=True, convert_to_iter_based=True)]\n")
    row = dict(name='Tiny FCN', finetune=ft, pretrain=pre, encoder='tiny')
    if alternative:
        row['alternative'] = alternative
    protocol = tmp_path / name
    protocol.write_text(
        f'recipe = {recipe!r}\nsynthetic_videos = {synthetic_videos}\nseeds = [0]\n'
        f'folds = {folds}\nvideo_ef = False\ncheckpoint_interval = 1\n'
        'speed = dict(shape=(32, 32), threads=1, warmup=1, runs=1)\n'
        f'rows = [{row!r}]\n')
    return str(protocol), data


def entries_of(protocol, data, work='/nonexistent', seeds=(0, )):
    return mt.plan(mt.load_protocol(protocol), data, work, list(seeds))


def test_stage_hashes_are_stable_and_follow_what_the_result_depends_on(tmp_path):
    protocol, data = write_setup(tmp_path)
    a, = entries_of(protocol, data)
    b, = entries_of(protocol, data, seeds=(0, 1, 2))
    keys = ('pretrain_key', 'cv_key', 'model_key')
    assert all(len(a[k]) == 12 for k in keys)
    assert [a[k] for k in keys] == [b[k] for k in keys]   # the seeds are not in the hash
    # the same config under another name, and logging settings: the same hashes
    text = open(protocol).read()
    (tmp_path / 'copy').mkdir()
    moved = write_derived_config(tmp_path / 'copy', 'pre_copy.py', str(tmp_path / 'pre' /
                                                                        'pre.py'),
                                 'default_hooks = dict(logger=dict(interval=7))\n')
    other = tmp_path / 'other.py'
    other.write_text(text.replace(str(tmp_path / 'pre' / 'pre.py'), moved))
    c, = entries_of(str(other), data)
    assert [c[k] for k in keys] == [a[k] for k in keys]
    # the pretraining's data size: both stages change (the cv stage starts from it)
    other.write_text(text.replace('synthetic_videos = 4', 'synthetic_videos = 5'))
    d, = entries_of(str(other), data)
    assert d['pretrain_key'] != a['pretrain_key'] and d['cv_key'] != a['cv_key']
    assert d['model_key'] == a['model_key']
    # a loss of the fine-tuning model: the cv stage, not the timed / counted model
    loss = tmp_path / 'loss'
    loss.mkdir()
    ft = next(r['finetune'] for r in mt.load_protocol(protocol)['rows'])
    with_area = write_derived_config(loss, 'ft_area.py', ft, (
        "model = dict(decode_head=dict(loss_decode=[dict(type='BCEDiceLoss'), "
        "dict(type='SoftAreaLoss', band=8)]), train_cfg=dict(unsup_weight=0.25))\n"))
    other.write_text(text.replace(ft, with_area))
    f, = entries_of(str(other), data)
    assert f['cv_key'] != a['cv_key'] and f['model_key'] == a['model_key']
    # the folds, and an alternative setting: the cv stage only
    other.write_text(text.replace('folds = 2', 'folds = 3'))
    e, = entries_of(str(other), data)
    assert (e['pretrain_key'], e['model_key']) == (a['pretrain_key'], a['model_key'])
    assert e['cv_key'] != a['cv_key']
    protocol2, _ = write_setup(tmp_path, alternative={'optim_wrapper.optimizer.lr': 1e-3},
                               name='alternative.py')
    main, alt = entries_of(protocol2, data)
    assert main['cv_key'] == a['cv_key'] and alt['cv_key'] != a['cv_key']
    assert alt['pretrain_key'] == a['pretrain_key']
    # the data: one FileList value changes the cv stage
    filelist = osp.join(data, 'FileList.csv')
    rows = open(filelist).read()
    with open(filelist, 'w') as f:
        f.write(rows.replace('55.0', '56.0', 1))
    f_, = entries_of(protocol, data)
    assert f_['cv_key'] != a['cv_key'] and f_['pretrain_key'] == a['pretrain_key']
    # directories are named by the hashes
    assert a['cv_dir'].endswith(f"tiny_fcn-{a['cv_key']}")


def test_a_rows_own_pretraining_count_replaces_the_protocols(tmp_path):
    """``synthetic_videos`` in a row (the pretraining-size curve): that row's pretraining
    trains on its own count, its stages get their own hashes and folder, and the table
    names the count; the other rows keep the protocol's."""
    protocol, data = write_setup(tmp_path)
    text = open(protocol).read()
    base, = entries_of(protocol, data)
    (row, ) = mt.load_protocol(protocol)['rows']
    for videos in (6, 4):
        own = dict(row, name=f'Tiny FCN, {videos}', synthetic_videos=videos)
        other = tmp_path / f'own{videos}.py'
        other.write_text(text.replace(f'rows = [{row!r}]', f'rows = [{row!r}, {own!r}]'))
        same, mine = entries_of(str(other), data)
        assert same['pretrain_key'] == base['pretrain_key']
        specs = list(mt.dataset_specs(mine['pre_cfg'].train_dataloader['dataset'],
                                      mt.PROTOCOL_DEFAULTS['synthetic_dataset']))
        assert specs and all(s['num_videos'] == videos for s in specs)
        if videos == 4:   # the protocol's own count, named: the same pretraining
            assert mine['pretrain_key'] == base['pretrain_key']
            continue
        assert mine['pretrain_key'] != base['pretrain_key'] != mine['cv_key']
        assert mine['cv_key'] != same['cv_key'] and mine['model_key'] == same['model_key']
        assert osp.basename(mine['pretrain_dir']).endswith(f"_n6-{mine['pretrain_key']}")
        proto = mt.load_protocol(str(other))
        rows = mt.table_rows([same, mine], proto, [0], str(tmp_path), None, {})
        assert [r['synthetic_videos'] for r in rows] == [4, 6]
        settings = dict(protocol=proto, data_root=data, num_videos=4,
                        data_fingerprint='f' * 64, seeds=[0],
                        recipe=dict(optimizer=dict(type='AdamW'), batch_size=2,
                                    max_epochs=1))
        lines = mt.markdown(rows, settings).splitlines()
        assert ' on 6 synthetic videos' in next(x for x in lines if '| Tiny FCN, 6' in x)
        assert 'synthetic videos' not in next(x for x in lines if '| Tiny FCN (tiny)' in x)
    for bad in (0, True, '6'):
        other.write_text(text.replace("'encoder': 'tiny'",
                                      f"'encoder': 'tiny', 'synthetic_videos': {bad!r}"))
        with pytest.raises(ValueError, match='synthetic_videos must be a positive count'):
            mt.load_protocol(str(other))


def test_finetune_config_takes_the_recipe_and_the_alternative(tmp_path):
    protocol, data = write_setup(tmp_path, alternative={'train_cfg.max_epochs': 4,
                                                        'optim_wrapper.optimizer.lr': 0.5})
    main, alt = entries_of(protocol, data)
    recipe = mt.recipe_settings(mt.load_protocol(protocol))
    for entry in (main, alt):
        assert entry['ft_cfg'].train_dataloader.batch_size == recipe['batch_size'] == 2
        assert entry['ft_cfg'].optim_wrapper.optimizer.type == 'AdamW'
    assert main['epochs'] == 1 and main['ft_cfg'].optim_wrapper.optimizer.lr == 1e-2
    # the alternative: after the recipe; the epoch schedule moves with the epochs
    assert alt['epochs'] == 4 and alt['ft_cfg'].optim_wrapper.optimizer.lr == 0.5
    assert alt['ft_cfg'].param_scheduler[0]['end'] == 4
    assert main['ft_cfg'].param_scheduler[0]['end'] == 1      # the recipe's
    assert alt['name'] == 'Tiny FCN, alternative' and alt['declared_in'] == 'protocol'
    # an SGD config gets the recipe's optimiser whole (no momentum left over)
    sgd = write_derived_config(tmp_path / 'ft', 'sgd.py', str(tmp_path / 'ft' /
                                                              'tiny_echonet.py'),
                               "optim_wrapper = dict(optimizer=dict(_delete_=True, "
                               "type='SGD', lr=0.1, momentum=0.9))\n"
                               "method_table = dict(alternative={'train_cfg.max_epochs': 2})\n")
    proto = mt.load_protocol(protocol)
    proto['rows'][0].update(finetune=sgd, alternative=None, model='pretrain')
    main, alt = mt.plan(proto, data, '/nonexistent', [0])
    assert dict(main['ft_cfg'].optim_wrapper.optimizer) == dict(recipe['optimizer'])
    assert main['ft_cfg'].model == main['pre_cfg'].model      # model='pretrain'
    assert alt['declared_in'] == sgd and alt['epochs'] == 2   # read from the config
    proto['rows'][0]['alternative'] = {'train_cfg.max_epochs': 3}
    both, = mt.plan(proto, data, '/nonexistent', [0])
    assert 'at most one per method' in both['error'] and 'cv_key' not in both
    proto['rows'][0]['alternative'] = None
    proto['rows'][0]['finetune'] = str(tmp_path / 'ft' / 'tiny_echonet.py')
    proto['rows'][0]['alternative'] = {'optim_wrapper.optimiser.lr': 1}
    bad = mt.plan(proto, data, '/nonexistent', [0])[1]
    assert 'optimiser' in bad['error'] and 'cv_key' not in bad


def test_rows_from_configs(tmp_path):
    protocol, data = write_setup(tmp_path)
    own = write_derived_config(
        tmp_path / 'ft', 'own.py', str(tmp_path / 'ft' / 'tiny_echonet.py'),
        f"method_table = dict(name='Own', pretrain={str(tmp_path / 'pre' / 'pre.py')!r}, "
        "alternative={'train_cfg.max_epochs': 3})\n")
    proto = mt.load_protocol(configs=[own])
    assert proto['rows'] == [dict(name='Own', pretrain=str(tmp_path / 'pre' / 'pre.py'),
                                  finetune=own)]
    assert proto['recipe'] == mt.PROTOCOL_DEFAULTS['recipe']
    main, alt = mt.expand_rows(proto)
    assert alt['alternative'] == {'train_cfg.max_epochs': 3} and alt['declared_in'] == own
    with pytest.raises(FileNotFoundError, match='nowhere.py: config file not found'):
        mt.load_protocol(configs=[str(tmp_path / 'nowhere.py')])


def _hand_runs(cv_dir, seeds, folds):
    """run.json and predictions.npz of a finished cv stage, with known numbers: per run
    two videos; each clip has the LV (a disc shrinking to ES) and, from frame 2 on, a
    wrongly lit blob that outgrows the LV at ES in the runs of fold 0."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:32, :32]
    expected = {}
    for s in seeds:
        for k in range(folds):
            name = f'all_seed{s}_fold{k}'
            os.makedirs(osp.join(cv_dir, name))
            videos, arrays = [], {}
            for j in range(2):
                vid = f'v{k}{j}'
                radii = [9, 8, 7, 6, 5, 3 if k == 0 else 5]
                lv = np.stack([(yy - 10) ** 2 + (xx - 10) ** 2 <= r * r for r in radii])
                blob = (yy - 24) ** 2 + (xx - 24) ** 2 <= 16
                clip = lv.astype(np.uint8)
                clip[2:][:, blob] = 1
                arrays.update({f'{vid}__clip': clip, f'{vid}__clip_index': np.array([0, 5]),
                               f'{vid}__gt': lv[[0, 5]].astype(np.uint8),
                               f'{vid}__pred': clip[[0, 5]]})
                v = dict(video_id=vid, dice_ed=rng.random(), dice_es=rng.random(),
                         hd95=10 * rng.random(), tc_flicker=rng.random(),
                         ef_masks_error=rng.random(), dice_ed_raw=rng.random(),
                         dice_es_raw=rng.random(),
                         ef_video=None if (s, k, j) == (0, 1, 1) else 50.0 + k + j,
                         ef_filelist=45.0, ef_masks=30.0 + 10 * rng.random(),
                         ef_video_error=None if (s, k, j) == (0, 1, 1) else 10 * rng.random())
                v['dice'] = (v['dice_ed'] + v['dice_es']) / 2
                v['dice_raw'] = (v['dice_ed_raw'] + v['dice_es_raw']) / 2
                v['expect_overlap'] = 1.0
                v['expect_largest'] = 0.5 if k == 0 else 1.0
                videos.append(v)
                expected.setdefault(s, []).append(v)
            np.savez_compressed(osp.join(cv_dir, name, 'predictions.npz'), **arrays)
            with open(osp.join(cv_dir, name, 'run.json'), 'w') as f:
                json.dump(dict(seed=s, fold=k, videos=videos), f)
    return expected


def test_aggregation_against_a_hand_computation(tmp_path):
    cv_dir = str(tmp_path / 'cv')
    seeds, folds = [0, 1], 2
    expected = _hand_runs(cv_dir, seeds, folds)
    names = [f'all_seed{s}_fold{k}' for s in seeds for k in range(folds)]
    out = mt.aggregate_row(cv_dir, names, seeds)
    assert out['videos'] == 8 and out['ef_video_of'] == 8 and out['ef_video_count'] == 7
    for key in ('dice_ed', 'dice_es', 'dice', 'dice_raw', 'hd95', 'tc_flicker'):
        per_seed = [statistics.mean(v[key] for v in expected[s]) for s in seeds]
        assert out[key]['per_seed'] == pytest.approx(per_seed)
        assert out[key]['mean'] == pytest.approx(statistics.mean(per_seed))
        assert out[key]['sd'] == pytest.approx(statistics.stdev(per_seed))
    # the EF error over the videos that have one
    per_seed = [statistics.mean(v['ef_video_error'] for v in expected[s]
                                if v['ef_video_error'] is not None) for s in seeds]
    assert out['ef_video_error']['per_seed'] == pytest.approx(per_seed)
    # the signed EF errors (predicted - FileList.csv)
    for kind in ('video', 'masks'):
        per_seed = [statistics.mean(v[f'ef_{kind}'] - 45.0 for v in expected[s]
                                    if v[f'ef_{kind}'] is not None) for s in seeds]
        assert out[f'ef_{kind}_bias']['per_seed'] == pytest.approx(per_seed)
    assert out['ef_video_bias']['per_seed'][0] == pytest.approx((5 + 6 + 6) / 3)
    # the LV component choice: largest loses the ES frame of fold 0's clips, overlap not
    for choice in ('largest', 'overlap'):
        per_seed = [statistics.mean(v[f'expect_{choice}'] for v in expected[s])
                    for s in seeds]
        assert out[f'dice_{choice}']['per_seed'] == pytest.approx(per_seed)
    assert out['dice_es_largest']['mean'] == pytest.approx(0.5)
    assert out['dice_es_overlap']['mean'] == pytest.approx(1.0)
    # the areas: the overlap choice keeps the LV itself (ratio 1); the largest keeps the
    # blob (radius 4) at ES in the runs of fold 0, where a disc of radius 3 is traced
    yy, xx = np.mgrid[:32, :32]
    blob = int(((yy - 24) ** 2 + (xx - 24) ** 2 <= 16).sum())
    disc3 = int(((yy - 10) ** 2 + (xx - 10) ** 2 <= 9).sum())
    assert out['area_ratio_ed_overlap']['mean'] == pytest.approx(1.0)
    assert out['area_ratio_es_overlap']['mean'] == pytest.approx(1.0)
    assert out['area_ratio_es_largest']['per_seed'][0] == pytest.approx(
        (blob / disc3 + 1.0) / 2)
    os.remove(osp.join(cv_dir, names[-1], 'run.json'))
    with pytest.raises(mt.StageError, match='no run.json'):
        mt.aggregate_row(cv_dir, names, seeds)


def _rows(tmp_path):
    cv_dir = str(tmp_path / 'cv')
    _hand_runs(cv_dir, [0, 1], 2)
    measured = dict(name='Measured', method='Measured', finetune='a.py', pretrain='b.py',
                    encoder='R18', alternative=None, cv_dir=cv_dir, model_key='m1',
                    cv_state=dict(state='done', runs_done=4, runs=4),
                    pretrain_state=dict(state='done'))
    waiting = dict(name='Waiting', method='Measured', finetune='a.py', pretrain='b.py',
                   alternative={'optim_wrapper.optimizer.lr': 0.001}, cv_dir=str(tmp_path),
                   model_key='m2', declared_in='protocol',
                   cv_state=dict(state='partial', runs_done=1, runs=4),
                   pretrain_state=dict(state='todo', epochs_saved=0, max_epochs=6))
    os.makedirs(tmp_path / 'complexity')
    (tmp_path / 'complexity' / 'm1.json').write_text(json.dumps(dict(params=2.5e6,
                                                                     macs_frame=1.5e9)))
    speed = dict(models=dict(m1=dict(fps=40.0), m2=dict(fps=90.0)))
    declarations = {'Measured': dict(results_of_the_method_existed=True)}
    proto = dict(folds=2)
    return mt.table_rows([measured, waiting], proto, [0, 1], str(tmp_path), speed,
                         declarations)


def _fmt_hand(stat):
    return f"{stat['mean']:.1f} ± {stat['sd']:.1f}"


def test_table_marks_unfinished_rows_and_the_plot_is_written(tmp_path):
    rows = _rows(tmp_path)
    assert rows[0]['measured'] and not rows[1]['measured']
    assert rows[1]['remaining'] == ('pretraining (0/6 epochs saved), cross-validation '
                                    '(1/4 runs)')
    settings = dict(protocol=dict(mt.PROTOCOL_DEFAULTS, source='p.py'), data_root='/d',
                    num_videos=7, data_fingerprint='f' * 64, seeds=[0, 1],
                    recipe=dict(optimizer=dict(type='AdamW', lr=3e-4), batch_size=2,
                                max_epochs=50))
    table = mt.markdown(rows, settings)
    lines = table.splitlines()
    measured = next(line for line in lines if line.startswith('| Measured (R18) |'))
    cells = [c.strip() for c in measured.strip('|').split('|')]
    dice = rows[0]['scores']['dice']
    assert cells[4] == f"{dice['mean']:.3f} ± {dice['sd']:.3f}"
    assert cells[8] == _fmt_hand(rows[0]['scores']['ef_masks_error'])
    assert cells[9] == ' / '.join(f"{rows[0]['scores'][k]['mean']:.1f}"
                                  for k in ('ef_video_bias', 'ef_masks_bias'))
    assert cells[11:14] == ['2.50', '1.50', '40.0'] and cells[14] == 'measured'
    waiting = next(line for line in lines if line.startswith('| Waiting |'))
    assert 'not measured yet' in waiting and 'remaining: pretraining (0/6' in waiting
    assert 'declared after results of the method existed' in waiting
    assert '`optim_wrapper.optimizer.lr=0.001`' in waiting and '| 90.0 |' in waiting
    assert sum(line.startswith('| Measured |') for line in lines) == 1   # components
    # the plot: written with the measured row, and with none measured
    for which, name in ((rows, 'a.png'), (rows[1:], 'b.png')):
        path = mt.plot(which, str(tmp_path / 'plots' / name))
        image = cv2.imread(path)
        assert image is not None and image.shape == (540, 840, 3)
    assert not np.array_equal(cv2.imread(str(tmp_path / 'plots' / 'a.png')),
                              cv2.imread(str(tmp_path / 'plots' / 'b.png')))


def test_declarations_record_whether_results_existed(tmp_path):
    alt = dict(name='M, alternative', method='M', alternative={'a': 1},
               declared_in='protocol', cv_dir='x')
    main = dict(name='M', method='M', alternative=None, cv_dir='y',
                cv_state=dict(runs_done=0))
    first = mt.record_declarations([main, alt], str(tmp_path))
    assert first['M']['results_of_the_method_existed'] is False
    main['cv_state']['runs_done'] = 3
    assert mt.record_declarations([main, alt], str(tmp_path)) == first   # unchanged
    alt['alternative'] = {'a': 2}
    later = mt.record_declarations([main, alt], str(tmp_path))
    assert later['M']['results_of_the_method_existed'] is True
    saved = json.loads((tmp_path / 'declarations.json').read_text())
    assert [d['alternative'] for d in saved['M']] == [{'a': 1}, {'a': 2}]


def test_bad_inputs(tmp_path, capsys):
    protocol, data = write_setup(tmp_path)
    cases = [([str(tmp_path / 'none.py')], 'none.py: protocol file not found'),
             ([protocol, '--rows', 'Nope'], "--rows ['Nope']: not in the protocol"),
             ([protocol, '--data-root', str(tmp_path)], 'no FileList.csv')]
    for argv, message in cases:
        with pytest.raises(SystemExit) as exc:
            mt.main(argv + (['--data-root', data] if '--data-root' not in argv else [])
                    + ['--work-root', str(tmp_path / 'w'), '--dry-run'])
        assert exc.value.code == 2 and message in capsys.readouterr().err
    bad = tmp_path / 'bad.py'
    bad.write_text(open(protocol).read().replace("'encoder'", "'encodr'"))
    with pytest.raises(SystemExit):
        mt.main([str(bad), '--data-root', data, '--work-root', str(tmp_path / 'w'),
                 '--dry-run'])
    assert "unknown key(s) ['encodr']" in capsys.readouterr().err


def _mtimes(paths):
    return {p: os.stat(p).st_mtime_ns for p in paths}


def _logs(directory):
    found = sorted(osp.join(r, n) for r, _, names in os.walk(directory) for n in names
                   if n.endswith('.log') and n != 'stage.log')
    return [open(p).read() for p in found]


def test_stages_resume_are_reused_and_grow_with_the_seeds(tmp_path):
    protocol, data = write_setup(tmp_path)
    work = str(tmp_path / 'work')
    entry, = entries_of(protocol, data, work)
    # an interrupted pretraining: killed after its first epoch's checkpoint
    os.makedirs(entry['pretrain_dir'])
    config = osp.join(entry['pretrain_dir'], 'config.py')
    entry['pre_cfg'].dump(config)
    killer = write_sigkill_config(tmp_path, 'kill.py', config, at=2)
    run_train_tool(killer, entry['pretrain_dir'], expect=-signal.SIGKILL,
                   extra_path=[str(tmp_path)])
    assert mt.pretrain_state(entry['pretrain_dir'], 2)['state'] == 'partial'
    archive = str(tmp_path / 'archive')
    argv = [protocol, '--data-root', data, '--work-root', work, '--threads', '1',
            '--archive', archive]
    threads = torch.get_num_threads()
    try:
        out = mt.main(argv)
    finally:
        torch.set_num_threads(threads)
    killed, resumed = _logs(entry['pretrain_dir'])
    assert 'Epoch(train) [1]' in killed and 'Epoch(train) [2]' not in killed
    assert 'Epoch(train) [2]' in resumed and 'Epoch(train) [1]' not in resumed
    done = json.loads(open(osp.join(entry['pretrain_dir'], 'done.json')).read())
    assert done['checkpoint'].endswith('epoch_2.pth')
    row, = out['rows']
    assert row['measured'] and row['remaining'] == ''
    # the fine-tuning started from the pretraining's final checkpoint, with every tensor
    runs = [json.load(open(osp.join(entry['cv_dir'], n, 'run.json')))
            for n in ('all_seed0_fold0', 'all_seed0_fold1')]
    for run in runs:
        assert run['init']['checkpoint'] == done['checkpoint']
        assert run['init']['tensors_equal'] == run['init']['tensors_in_model'] > 0
    dice = statistics.mean(v['dice'] for r in runs for v in r['videos'])
    assert row['scores']['dice']['mean'] == pytest.approx(dice)
    # the largest-component Dice recomputed from the saved clips is EchoMetric's
    assert row['scores']['dice_largest']['mean'] == pytest.approx(dice)
    assert row['complexity']['params'] > 0 and row['speed']['fps'] > 0
    table = open(osp.join(work, 'method_table.md')).read()
    assert f"{dice:.3f}" in table and '| Tiny FCN (tiny) |' in table
    # the archive holds the finished stage: a fresh work root shows the same row
    assert osp.isfile(osp.join(archive, 'cv', osp.basename(entry['cv_dir']) + '.json'))
    assert osp.isfile(osp.join(archive, 'complexity', f"{entry['model_key']}.json"))
    fresh = mt.main([protocol, '--data-root', data, '--work-root', str(tmp_path / 'fresh'),
                     '--archive', archive, '--table-only'])
    assert fresh['rows'][0]['measured'] and fresh['rows'][0]['runs_archived_only'] == 2
    assert fresh['rows'][0]['scores'] == row['scores']
    assert fresh['rows'][0]['complexity'] == row['complexity']
    assert cv2.imread(out['plot']) is not None
    # again: every stage is reused, nothing retrained or re-run
    files = [osp.join(entry['pretrain_dir'], 'done.json'),
             osp.join(entry['pretrain_dir'], 'stage.log'),
             osp.join(entry['cv_dir'], 'stage.log')] + [
        osp.join(entry['cv_dir'], n, 'run.json') for n in ('all_seed0_fold0',
                                                          'all_seed0_fold1')]
    before = _mtimes(files)
    try:
        again = mt.main(argv + ['--stages', 'pretrain', 'cv', 'complexity'])
        assert _mtimes(files) == before
        assert again['rows'][0]['scores'] == row['scores']
        # a second seed: the same cv stage grows by the new seed's runs only
        grown = mt.main(argv + ['--seeds', '0', '1', '--stages', 'pretrain', 'cv'])
    finally:
        torch.set_num_threads(threads)
    assert _mtimes(files[:2] + files[3:]) == {k: before[k] for k in files[:2] + files[3:]}
    assert grown['rows'][0]['cv_dir'] == row['cv_dir']
    assert len(grown['rows'][0]['scores']['dice']['per_seed']) == 2
    assert grown['rows'][0]['scores']['dice']['per_seed'][0] == pytest.approx(dice)


def test_stage_lock_is_exclusive_and_lasts_while_the_stage_subprocess_lives(tmp_path):
    import subprocess
    import sys
    directory = str(tmp_path / 'stage')
    assert not mt._locked(directory)
    with mt.stage_lock(directory) as fd:
        assert mt._locked(directory)
        with pytest.raises(mt.StageError, match='another process is running this stage'):
            with mt.stage_lock(directory):
                pass
        child = subprocess.Popen([sys.executable, '-c', 'import sys; sys.stdin.read()'],
                                 stdin=subprocess.PIPE, pass_fds=(fd, ))
    try:
        assert mt._locked(directory)          # the parent let go, the stage still runs
    finally:
        child.communicate(b'')
    assert not mt._locked(directory)
    with mt.stage_lock(directory):
        pass


def test_dry_run_prints_the_plan_and_runs_nothing(tmp_path, capsys):
    protocol, data = write_setup(tmp_path, alternative={'optim_wrapper.optimizer.lr': 0.1})
    work = tmp_path / 'work'
    out = mt.main([protocol, '--data-root', data, '--work-root', str(work), '--dry-run'])
    text = capsys.readouterr().out
    main, alt = out['rows']
    assert f"pretrain {main['pretrain_key']} {main['pretrain_dir']}: todo (0/2 epochs " \
        'saved)' in text
    assert f"cv {alt['cv_key']} {alt['cv_dir']}: todo (0/2 runs), 1 epochs per run" in text
    fit = mt.weights_fit(entries_of(protocol, data)[0])
    assert fit['tensors_fit'] == fit['tensors_in_model'] > 0
    assert f"weights that fit the fine-tuning model: {fit['tensors_fit']}/" in text
    assert text.count('cross_validate.py') == 2 and '--load-from <pretrain checkpoint>' in text
    # nothing ran: only the declaration of the alternative is recorded
    assert sorted(os.listdir(work)) == ['declarations.json']
    declared = json.loads((work / 'declarations.json').read_text())['Tiny FCN']
    assert declared[0]['results_of_the_method_existed'] is False
    # --rows: the plan of that row alone
    only = mt.main([protocol, '--data-root', data, '--work-root', str(work), '--dry-run',
                    '--rows', alt['name']])
    text = capsys.readouterr().out
    assert [r['name'] for r in only['rows']] == [alt['name']]
    assert text.count('cross_validate.py') == 1 and alt['cv_key'] in text
    assert main['cv_key'] not in text


def test_a_broken_config_is_its_row_error_and_the_other_rows_go_on(tmp_path):
    protocol, data = write_setup(tmp_path)
    broken = tmp_path / 'ft' / 'broken.py'
    broken.write_text('model = dict(\n')
    proto = mt.load_protocol(protocol)
    proto['rows'].append(dict(proto['rows'][0], name='Broken', finetune=str(broken)))
    good, bad = mt.plan(proto, data, str(tmp_path / 'w'), [0])
    assert 'cv_key' in good and not good.get('error')
    assert bad['error'].startswith(f'{broken}: ') and 'cv_key' not in bad
    rows = mt.table_rows([good, bad], proto, [0], str(tmp_path / 'w'), None, {})
    assert rows[1]['remaining'] == f"config error: {bad['error']}"
    assert not rows[0]['measured'] and not rows[1]['measured']


def test_the_archive_keeps_the_table_when_the_work_root_is_gone(tmp_path):
    from echoseg.analysis import method_table_archive as ar
    cv_dir = str(tmp_path / 'work' / 'cv' / 'measured-abc')
    _hand_runs(cv_dir, [0, 1], 2)
    names = [f'all_seed{s}_fold{k}' for s in (0, 1) for k in range(2)]
    # a whole-video read-out of one held-out video, as cross_validate.py writes it
    os.makedirs(osp.join(cv_dir, names[0], 'videos'))
    readout = dict(fps=50.0, num_frames=4, areas=[10.1234, 8.0, 6.5, 9.0],
                   volumes=[20.0, 15.0, 11.0, 18.0], ed_frames=[0],
                   es_frames=[2], beats=[dict(ed_frame=0, es_frame=2, ef=40.0)],
                   ef_mean=40.0, flags=[], units='px', curve='area', masks='dropped')
    with open(osp.join(cv_dir, names[0], 'videos', 'v00.json'), 'w') as f:
        json.dump(readout, f)
    with open(osp.join(cv_dir, names[0], 'run.json')) as f:
        record = json.load(f)
    record.update(work_dir='/machine/only', log_dir='/machine/logs')
    with open(osp.join(cv_dir, names[0], 'run.json'), 'w') as f:
        json.dump(record, f)
    local = mt.aggregate_row(cv_dir, names, [0, 1])
    archive = str(tmp_path / 'archive')
    entry = dict(name='Measured', cv_dir=cv_dir, cv_key='abc', model_key='m1')
    path = ar.archive_cv(archive, entry, names, mt.component_scores)
    assert path == osp.join(archive, 'cv', 'measured-abc.json')
    assert ar.archive_cv(archive, entry, names, mt.component_scores) is None   # unchanged
    saved = ar.archived_runs(archive, cv_dir)
    assert sorted(saved) == names
    assert 'work_dir' not in saved[names[0]] and 'log_dir' not in saved[names[0]]
    kept = next(v for v in saved[names[0]]['videos'] if v['video_id'] == 'v00')['readout']
    assert kept['areas'] == [10.123, 8.0, 6.5, 9.0] and kept['es_frames'] == [2]
    assert kept['volumes'] == [20.0, 15.0, 11.0, 18.0]
    assert 'masks' not in kept and 'curve' not in kept
    # the work root goes: the row is still measured, with the same numbers
    import shutil
    shutil.rmtree(tmp_path / 'work')
    assert mt.cv_state(cv_dir, names)['state'] == 'todo'
    state = mt.cv_state(cv_dir, names, saved)
    assert state['state'] == 'done' and state['runs_archived_only'] == 4
    again = mt.aggregate_row(cv_dir, names, [0, 1], saved)
    assert json.dumps(again, sort_keys=True) == json.dumps(local, sort_keys=True)
    # the largest / overlap Dice came from the archived components, not the gone clips
    assert again['dice_es_largest']['mean'] == pytest.approx(0.5)
    # a row whose runs are archived needs no pretraining to be measured
    row = dict(cv_state=state, pretrain_state=dict(state='todo', epochs_saved=0,
                                                   max_epochs=6))
    assert mt.remaining(row) == ''
    # the same stage under a renamed row (its key unchanged) reads the same record
    renamed = str(tmp_path / 'work' / 'cv' / 'renamed_row-abc')
    assert sorted(ar.archived_runs(archive, renamed)) == names
    assert ar.archived_runs(archive, str(tmp_path / 'work' / 'cv' / 'measured-abd')) == {}
    # runs of a new seed merge into the record
    _hand_runs(str(tmp_path / 'measured-abc'), [2], 2)
    entry2 = dict(entry, cv_dir=str(tmp_path / 'measured-abc'))
    ar.archive_cv(archive, entry2, [f'all_seed2_fold{k}' for k in range(2)],
                  mt.component_scores)
    assert len(ar.archived_runs(archive, cv_dir)) == 6
    # runs that started from another pretraining checkpoint are not merged
    for k, sha in ((0, 'a' * 64), (1, 'b' * 64)):
        path = tmp_path / 'measured-abc' / f'all_seed2_fold{k}' / 'run.json'
        record = json.loads(path.read_text())
        record['init'] = dict(checkpoint='x.pth', checkpoint_sha256=sha)
        path.write_text(json.dumps(record))
    before = open(osp.join(archive, 'cv', 'measured-abc.json')).read()
    with pytest.raises(ar.ArchiveConflict, match='2 different pretraining checkpoints'):
        ar.archive_cv(archive, entry2, [f'all_seed2_fold{k}' for k in range(2)],
                      mt.component_scores)
    assert open(osp.join(archive, 'cv', 'measured-abc.json')).read() == before


def test_an_older_speed_timing_never_replaces_the_archived_one(tmp_path):
    """Timings compare only within one timing session: the work root's speed.json goes to
    the archive when it was timed later than the archived one, never when older or the
    same (a stale copy under superseded keys)."""
    archive = str(tmp_path / 'archive')
    proto = mt.load_protocol(write_setup(tmp_path)[0])
    kept = dict(measured='2026-12-07 14:03:26', models={'new_key': dict(fps=34.2)})
    mt.keep_in_archive([], proto, [0], str(tmp_path / 'w'), archive, kept)
    path = osp.join(archive, mt.SPEED_FILE)
    for stale in (dict(kept, models={'old_key': dict(fps=34.2)}),           # same timing
                  dict(measured='2026-12-06 09:00:00', models={'x': dict(fps=1.0)})):
        mt.keep_in_archive([], proto, [0], str(tmp_path / 'w'), archive, stale)
        assert json.load(open(path))['models'] == {'new_key': dict(fps=34.2)}
    later = dict(measured='2026-12-08 10:00:00', models={'y': dict(fps=2.0)})
    mt.keep_in_archive([], proto, [0], str(tmp_path / 'w'), archive, later)
    assert json.load(open(path))['models'] == {'y': dict(fps=2.0)}
