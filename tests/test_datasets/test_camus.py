"""CAMUSDataset on small patients written in the 2023 NIfTI and 2019 MHD layouts."""
import json
import os
import os.path as osp
import re
import subprocess
import sys

import numpy as np
import pytest
import SimpleITK as sitk

from echoseg.datasets.camus import (CAMUSDataset, load_split_file, make_camus_split,
                                    parse_info_cfg, ratio_split, standard_camus_patients)
from echoseg.datasets.errors import EchoDataError
from echoseg.datasets.transforms import PackEchoInputs
from echoseg.evaluation import load_results
from echoseg.structures import IGNORE_INDEX
from echoseg.testing import load_clip

H, W = 22, 30                  # H != W so that a transposition shows
SPACING = (0.31, 0.27)         # (row_mm, col_mm); distinct so that a swap shows


def _video(n, seed):
    """Frame i has a constant offset 8*i so that frames can be identified after loading."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 60, size=(H, W))
    return np.stack([base + 8 * i for i in range(n)]).astype(np.uint8)


def _labels(n):
    """Labels 0-3 whose LV (label 1) grows with the frame index."""
    yy, xx = np.mgrid[0:H, 0:W]
    out = np.zeros((n, H, W), np.uint8)
    for i in range(n):
        r = 3 + i
        out[i][(yy - H // 2) ** 2 + (xx - W // 2) ** 2 <= (r + 2) ** 2] = 2
        out[i][(yy - H // 2) ** 2 + (xx - W // 2) ** 2 <= r ** 2] = 1
        out[i][:3, :5] = 3
    return out


def _write(path, arr):
    img = sitk.GetImageFromArray(arr, isVector=False)
    img.SetSpacing((SPACING[1], SPACING[0]) + (1.0,) * (img.GetDimension() - 2))
    sitk.WriteImage(img, path)


def make_patient(root, pid, view='2CH', release='2023', n=6, cfg=None, ed=None, es=None,
                 nb=None, drop_keys=(), seed=0, labels=None):
    """Write one patient/view; ED/ES 1-based as in the cfg; ``labels`` (n, H, W) replaces
    the default growing LV. Returns (video, labels)."""
    folder = osp.join(root, pid)
    os.makedirs(folder, exist_ok=True)
    video, labels = _video(n, seed), (_labels(n) if labels is None else labels)
    ed = 1 if ed is None else ed
    es = n if es is None else es
    info = dict(ED=ed, ES=es, NbFrame=n if nb is None else nb, Sex='F', Age=61,
                ImageQuality='Good', LVedv=101.5, LVesv=48.25, LVef=52.5)
    info.update(cfg or {})
    with open(osp.join(folder, f'Info_{view}.cfg'), 'w') as f:
        f.write(''.join(f'{k}: {v}\n' for k, v in info.items() if k not in drop_keys))
    base = osp.join(folder, f'{pid}_{view}')
    e0 = min(max(ed - 1, 0), n - 1)
    s0 = min(max(es - 1, 0), n - 1)
    if release == '2023':
        _write(base + '_half_sequence.nii.gz', video)
        _write(base + '_half_sequence_gt.nii.gz', labels)
        for tag, f in (('ED', e0), ('ES', s0)):
            _write(base + f'_{tag}.nii.gz', video[f])
            _write(base + f'_{tag}_gt.nii.gz', labels[f])
    else:
        _write(base + '_sequence.mhd', video)
        for tag, f in (('ED', e0), ('ES', s0)):
            _write(base + f'_{tag}.mhd', video[f][None])      # 2019: 3-D with one slice
            _write(base + f'_{tag}_gt.mhd', labels[f][None])
    return video, labels


def split_file(tmp_path, train=(), val=(), test=()):
    path = str(tmp_path / 'split.json')
    with open(path, 'w') as f:
        json.dump(dict(train=list(train), val=list(val), test=list(test)), f)
    return path


def test_nifti_2023_semi(tmp_path):
    root = str(tmp_path / 'CAMUS_public' / 'database_nifti')    # patients two levels down
    video, labels = make_patient(root, 'patient0001', '2CH', n=6)
    make_patient(root, 'patient0001', '4CH', n=7, seed=1)
    ds = CAMUSDataset(data_root=str(tmp_path), split='train',
                      split_file=split_file(tmp_path, train=['patient0001']))
    assert len(ds) == 2
    info = ds.get_data_info(0)
    assert (info['patient_id'], info['view'], info['release']) == ('patient0001', '2CH', '2023')
    assert info['video_path'].endswith('patient0001_2CH_half_sequence.nii.gz')
    assert (info['ed_frame'], info['es_frame']) == (0, 5)
    assert info['spacing'] == pytest.approx(SPACING)
    assert sorted(info['frame_mask_paths']) == [0, 5]
    assert info['frame_mask_paths'][5].endswith('_ES_gt.nii.gz')
    assert info['label_map'] == {1: 1}
    assert (info['edv'], info['esv'], info['ef']) == (101.5, 48.25, 52.5)
    assert info['image_quality'] == 'Good' and info['camus_info']['Age'] == 61
    assert ds.metainfo['classes'] == ('background', 'LV')

    clip = load_clip(info, num_frames=10)
    idx = clip['frame_indices']
    assert idx[0] == 0 and idx[-1] == 5
    np.testing.assert_array_equal(clip['video'], video[idx])
    assert clip['labelled'].tolist() == [i in (0, 5) for i in idx]
    for t, f in enumerate(idx):
        if f in (0, 5):
            np.testing.assert_array_equal(clip['masks'][t], (labels[f] == 1).astype(np.uint8))
        else:
            assert (clip['masks'][t] == IGNORE_INDEX).all()


def test_full_mode_and_label_map(tmp_path):
    root = str(tmp_path)
    _, labels = make_patient(root, 'patient0002', '4CH', n=5)
    ds = CAMUSDataset(data_root=root, split='all', views='4CH', mode='full',
                      label_map={1: 1, 2: 2, 3: 3})
    info = ds.get_data_info(0)
    assert info['mask_path'].endswith('_4CH_half_sequence_gt.nii.gz')
    assert info['labelled_frames'] == list(range(5))
    assert ds.metainfo['classes'] == ('background', 'LV', 'myocardium', 'atrium')
    clip = load_clip(info, num_frames=5)
    assert clip['labelled'].all()
    np.testing.assert_array_equal(clip['masks'], labels[clip['frame_indices']])


def test_mhd_2019_release(tmp_path):
    root = str(tmp_path / 'training')
    video, labels = make_patient(root, 'patient0003', '2CH', release='2019', n=6, ed=2, es=6)
    ds = CAMUSDataset(data_root=str(tmp_path), split='all', views=['2CH'])
    info = ds.get_data_info(0)
    assert info['release'] == '2019' and info['video_path'].endswith('_sequence.mhd')
    assert (info['ed_frame'], info['es_frame']) == (1, 5)
    assert info['spacing'] == pytest.approx(SPACING)
    assert info['frame_mask_paths'][1].endswith('_ED_gt.mhd')
    clip = load_clip(info, num_frames=10, scale=(44, 45))
    assert clip['frame_indices'][0] == 1
    np.testing.assert_array_equal(clip['ori_masks'][0], (labels[1] == 1).astype(np.uint8))
    # spacing after resize follows each axis' factor
    assert clip['spacing'] == pytest.approx((SPACING[0] * H / 44, SPACING[1] * W / 45))
    assert clip['ori_spacing'] == pytest.approx(SPACING)

    # full mode on a 2019 patient: only ED and ES exist, so only they are labelled
    full = CAMUSDataset(data_root=str(tmp_path), split='all', views='2CH', mode='full')
    assert sorted(full.get_data_info(0)['frame_mask_paths']) == [1, 5]


def test_es_before_ed_runs_ed_first(tmp_path):
    video, labels = make_patient(str(tmp_path), 'patient0004', '2CH', n=6, ed=6, es=1)
    ds = CAMUSDataset(data_root=str(tmp_path), split='all', views='2CH')
    info = ds.get_data_info(0)
    assert (info['ed_frame'], info['es_frame']) == (5, 0)
    clip = load_clip(info, num_frames=10)
    idx = clip['frame_indices']
    assert idx[0] == 5 and idx[-1] == 0 and idx == sorted(idx, reverse=True)
    np.testing.assert_array_equal(clip['video'][0], video[5])
    lv = (clip['masks'][0] == 1).sum(), (clip['masks'][-1] == 1).sum()
    assert lv == ((labels[5] == 1).sum(), (labels[0] == 1).sum())


def test_nbframe_rule(tmp_path):
    # the cfg refers to a longer sequence: a 2023 half sequence runs from ED to ES
    make_patient(str(tmp_path / 'a'), 'patient0005', '2CH', n=5, ed=3, es=14, nb=16)
    info = CAMUSDataset(data_root=str(tmp_path / 'a'), split='all',
                        views='2CH').get_data_info(0)
    assert (info['ed_frame'], info['es_frame'], info['frame_rule']) == (
        0, 4, 'half_sequence_ends')
    # the same mismatch in the 2019 release cannot be resolved
    make_patient(str(tmp_path / 'b'), 'patient0005', '2CH', release='2019', n=5, nb=16)
    with pytest.raises(EchoDataError, match='Info_2CH.cfg.*NbFrame = 16.*5 frames'):
        CAMUSDataset(data_root=str(tmp_path / 'b'), split='all', views='2CH')


def test_shipped_split_file():
    ship = load_split_file(osp.join(osp.dirname(osp.dirname(osp.dirname(
        osp.abspath(__file__)))), 'data_splits', 'camus_split_seed0.json'))
    gen = make_camus_split(seed=0)
    for s in ('train', 'val', 'test'):
        assert ship[s] == gen[s]
    assert [len(ship[s]) for s in ('train', 'val', 'test')] == [350, 50, 100]
    allp = ship['train'] + ship['val'] + ship['test']
    assert sorted(allp) == standard_camus_patients(500) and len(set(allp)) == 500
    # seeded: another seed gives another split, the same seed the same one
    assert make_camus_split(seed=1)['test'] != gen['test']
    assert ratio_split(allp, seed=0) == ratio_split(list(reversed(allp)), seed=0)


def test_split_by_patient_without_leakage(tmp_path):
    ship = make_camus_split(seed=0)
    chosen = ship['train'][:2] + ship['val'][:1] + ship['test'][:1]
    for i, pid in enumerate(chosen):
        for view in ('2CH', '4CH'):
            make_patient(str(tmp_path), pid, view, n=4, seed=i)
    seen = {}
    for split in ('train', 'val', 'test'):
        ds = CAMUSDataset(data_root=str(tmp_path), split=split)
        pids = [ds.get_data_info(i)['patient_id'] for i in range(len(ds))]
        views = {(ds.get_data_info(i)['patient_id'], ds.get_data_info(i)['view'])
                 for i in range(len(ds))}
        assert set(pids) <= set(ship[split])
        assert views == {(p, v) for p in set(pids) for v in ('2CH', '4CH')}
        for p in pids:
            assert seen.setdefault(p, split) == split
    assert set(seen) == set(chosen)

    # a split file putting one patient in two splits is refused
    bad = split_file(tmp_path, train=[chosen[0]], test=[chosen[0]])
    with pytest.raises(EchoDataError, match='split.json.*leakage'):
        CAMUSDataset(data_root=str(tmp_path), split='train', split_file=bad)


def test_parse_info_cfg_generic(tmp_path):
    path = tmp_path / 'Info_4CH.cfg'
    path.write_text('ED: 1\nES: 12\nNbFrame: 12\nSex: M\nAge: 70\nImageQuality: Poor\n'
                    'LVedv: 88.1\nNewKey: some text: with colon\n')
    cfg = parse_info_cfg(str(path))
    assert cfg['ES'] == 12 and cfg['LVedv'] == 88.1 and cfg['Sex'] == 'M'
    assert cfg['NewKey'] == 'some text: with colon'


def test_errors_and_skip_invalid(tmp_path):
    root = str(tmp_path)
    make_patient(root, 'patient0010', '2CH', n=4)                            # good
    make_patient(root, 'patient0011', '2CH', n=4, drop_keys=('ES',))         # cfg key missing
    make_patient(root, 'patient0012', '2CH', n=4)                            # gt size wrong
    _write(osp.join(root, 'patient0012', 'patient0012_2CH_ES_gt.nii.gz'),
           np.zeros((H + 2, W), np.uint8))
    make_patient(root, 'patient0013', '2CH', n=4)                            # corrupt image
    with open(osp.join(root, 'patient0013', 'patient0013_2CH_half_sequence.nii.gz'),
              'wb') as f:
        f.write(b'\x1f\x8b' + b'garbage' * 40)
    make_patient(root, 'patient0014', '2CH', n=4)                            # no sequence
    os.remove(osp.join(root, 'patient0014', 'patient0014_2CH_half_sequence.nii.gz'))
    make_patient(root, 'patient0015', '2CH', n=4)                            # no cfg
    os.remove(osp.join(root, 'patient0015', 'Info_2CH.cfg'))

    expected = {
        'patient0011': r'Info_2CH.cfg: missing key .ES.',
        'patient0012': r'patient0012_2CH_ES_gt.nii.gz: mask size',
        'patient0013': r'patient0013_2CH_half_sequence.nii.gz: unreadable',
        'patient0014': r'patient0014.*no patient0014_2CH_half_sequence',
        'patient0015': r'patient0015.Info_2CH.cfg: cfg file not found',
    }
    for pid, pattern in expected.items():
        sf = split_file(tmp_path, train=['patient0010', pid])
        with pytest.raises(EchoDataError, match=pattern):
            CAMUSDataset(data_root=root, split='train', views='2CH', split_file=sf)

    ds = CAMUSDataset(data_root=root, split='all', views='2CH', skip_invalid=True)
    assert [ds.get_data_info(i)['patient_id'] for i in range(len(ds))] == ['patient0010']
    assert len(ds.skipped) == len(expected)
    for case, reason in ds.skipped:
        pid = case.split('_')[0]
        assert case == f'{pid}_2CH' and re.search(expected[pid], reason)


def test_real_camus_half_sequence(echodata, tmp_path):
    """The real 2CH half sequence read through the dataset (masks are synthetic here)."""
    src = osp.join(echodata, 'camus_sample', 'patient0500_2CH_half_sequence.nii.gz')
    hdr = sitk.ReadImage(src)
    w, h, n = hdr.GetSize()
    folder = tmp_path / 'patient0500'
    folder.mkdir()
    os.symlink(src, folder / 'patient0500_2CH_half_sequence.nii.gz')
    gt = np.zeros((h, w), np.uint8)
    gt[h // 4:h // 2, w // 3:w // 2] = 1
    for tag in ('ED', 'ES'):
        img = sitk.GetImageFromArray(gt)
        img.CopyInformation(sitk.Extract(hdr, (w, h, 0), (0, 0, 0)))
        sitk.WriteImage(img, str(folder / f'patient0500_2CH_{tag}_gt.nii.gz'))
    (folder / 'Info_2CH.cfg').write_text(f'ED: 1\nES: {n}\nNbFrame: {n}\nImageQuality: Good\n')

    ds = CAMUSDataset(data_root=str(tmp_path), split='all', views='2CH')
    info = ds.get_data_info(0)
    assert (info['ed_frame'], info['es_frame']) == (0, n - 1) == (0, 14)
    assert info['spacing'] == pytest.approx((0.308, 0.308), abs=1e-4)
    clip = load_clip(info, num_frames=10, scale=(256, 256))
    assert clip['ori_video_shape'] == (15, 422, 512)
    assert clip['frame_indices'] == [(i * 14) // 9 for i in range(10)]
    assert clip['spacing'] == pytest.approx((0.308 * 422 / 256, 0.308 * 512 / 256), abs=1e-4)
    np.testing.assert_array_equal(clip['ori_masks'][0], gt)
    packed = PackEchoInputs()(clip)
    assert tuple(packed['inputs'].shape) == (10, 1, 256, 256)
    assert packed['data_samples'].labelled.tolist() == [True] + [False] * 8 + [True]


def test_base_config_builds(tmp_path):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from echoseg.registry import DATASETS
    init_default_scope('echoseg')
    ship = make_camus_split(seed=0)
    for i, (pid, split) in enumerate(((ship['train'][0], 'train'), (ship['val'][0], 'val'))):
        for view in ('2CH', '4CH'):
            make_patient(str(tmp_path), pid, view, n=12, seed=i)   # 12 >= T: no repeats
    cfg = Config.fromfile(osp.join(osp.dirname(osp.dirname(osp.dirname(
        osp.abspath(__file__)))), 'configs', '_base_', 'datasets', 'camus.py'))
    for loader, pid in (('train_dataloader', ship['train'][0]),
                        ('val_dataloader', ship['val'][0])):
        spec = cfg[loader]['dataset']
        spec['data_root'] = str(tmp_path)
        ds = DATASETS.build(spec)
        assert len(ds) == 2 and ds.get_data_info(0)['patient_id'] == pid
        out = ds[0]
        assert tuple(out['inputs'].shape) == (10, 1, 256, 256)
        sample = out['data_samples']
        assert sample.labelled.tolist() == [True] + [False] * 8 + [True]
        if loader == 'val_dataloader':      # RandomClipScale changes the train spacing
            assert sample.metainfo['spacing'] == pytest.approx((SPACING[0] * H / 256,
                                                                SPACING[1] * W / 256))


def _make_split(*args):
    """``python tools/dataset_converters/camus_make_split.py ARGS``: (exit status, stdout)."""
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    proc = subprocess.run([sys.executable, 'tools/dataset_converters/camus_make_split.py',
                           *map(str, args)], cwd=root, capture_output=True, text=True,
                          timeout=300)
    return proc.returncode, proc.stdout


def test_camus_make_split_tool(tmp_path):
    assert _make_split('--check')[0] == 0                   # the shipped file is current
    out = str(tmp_path / 'seed3.json')
    assert _make_split('--seed', '3', '--out', out)[0] == 0
    written = load_split_file(out)
    gen = make_camus_split(seed=3)
    assert all(written[s] == gen[s] for s in ('train', 'val', 'test'))
    assert _make_split('--seed', '0', '--out', out, '--check')[0] == 1   # seed 3 != seed 0
    make_patient(str(tmp_path / 'data'), gen['test'][0], '2CH', n=3)
    code, printed = _make_split('--show', '--split-file', out, '--data-root', tmp_path / 'data')
    assert code == 0 and '1 found' in printed


# ------------------------------------------------------------------ CAMUS-Full evaluation
CONFIG_DIR = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
                      'configs')


def _beating_lv(n, ed_first=True):
    """Labels of a half cycle: an LV (1) shrinking from ED to ES in a myocardium ring (2)."""
    yy, xx = np.mgrid[0:H, 0:W]
    out = np.zeros((n, H, W), np.uint8)
    for i in range(n):
        phase = i / (n - 1) if ed_first else 1 - i / (n - 1)
        r = 8.0 - 4.0 * phase
        d2 = (yy - 11) ** 2 + ((xx - 15) / 0.8) ** 2     # taller than wide
        out[i][d2 <= (r + 2) ** 2] = 2
        out[i][d2 <= r ** 2] = 1
    return out


def _numpy_dice(p, g):
    return 2.0 * np.logical_and(p, g).sum() / (p.sum() + g.sum())


def _run_camus_eval(cfg, loader, root, split, truth, prediction, dump):
    """Build the config's dataset on ``root``, predict every clip with ``prediction(lv)``
    (lv: the ``truth`` LV masks of the clip's frames) and score the whole set in one
    EchoMetric batch; returns (samples, metrics, the dump)."""
    import copy

    import torch

    from echoseg.registry import DATASETS, METRICS
    spec = copy.deepcopy(cfg[loader]['dataset'])
    spec.update(data_root=root, split_file=split)
    ds = DATASETS.build(spec)
    samples = []
    for i in range(len(ds)):
        out = ds[i]
        sample = out['data_samples']
        lv = truth[sample.metainfo['video_id']][sample.metainfo['frame_indices']]
        sample.pred_masks = torch.as_tensor(prediction(lv).astype(np.int64))
        samples.append((out['inputs'], sample))
    evaluator = dict(cfg[loader.replace('dataloader', 'evaluator')], dump_path=dump)
    metric = METRICS.build(evaluator)
    metric.process({}, [s.to_dict() for _, s in samples])     # clips of different T together
    return samples, metric.evaluate(len(samples)), load_results(dump)


def _shift_down(lv, k=2):
    out = np.zeros_like(lv)
    out[:, k:] = lv[:, :-k]
    return out


def test_camus_full_evaluates_every_frame_semi_only_ed_es(tmp_path):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    init_default_scope('echoseg')
    root = str(tmp_path / 'database_nifti')
    lengths = {'patient0001_2CH': 13, 'patient0001_4CH': 17, 'patient0002_2CH': 11,
               'patient0002_4CH': 15}
    truth = {}                                  # LV masks of every frame, in file order
    for vid, n in lengths.items():
        pid, view = vid.split('_')
        reverse = vid == 'patient0002_2CH'      # this sequence is stored ES first
        labels = _beating_lv(n, ed_first=not reverse)
        make_patient(root, pid, view, n=n, labels=labels, seed=n,
                     ed=n if reverse else 1, es=1 if reverse else n)
        truth[vid] = labels == 1
    split = split_file(tmp_path, test=['patient0001', 'patient0002'])
    full = Config.fromfile(osp.join(CONFIG_DIR, 'echoforge', 'r50_camus_full.py'))
    semi = Config.fromfile(osp.join(CONFIG_DIR, 'echoforge', 'r50_camus.py'))
    for name in ('val_dataloader', 'test_dataloader'):
        assert full[name]['batch_size'] == 1          # clips of different T: one per batch

    # perfect predictions: every frame of every half sequence is scored, Dice 1
    samples, m, _ = _run_camus_eval(full, 'test_dataloader', str(tmp_path), split, truth,
                                    lambda lv: lv, str(tmp_path / 'full_perfect.json'))
    assert sorted(s.metainfo['video_id'] for _, s in samples) == sorted(lengths)
    for inputs, sample in samples:
        vid, n = sample.metainfo['video_id'], lengths[sample.metainfo['video_id']]
        forward = list(range(n))
        assert sample.metainfo['frame_indices'] == (
            forward[::-1] if vid == 'patient0002_2CH' else forward)   # ED first
        assert tuple(inputs.shape) == (n, 1, 256, 256)
        assert sample.labelled.all() and tuple(sample.ori_gt_masks.shape) == (n, H, W)
        assert (sample.metainfo['ed_index'], sample.metainfo['es_index']) == (0, n - 1)
    assert m['num_frames'] == sum(lengths.values()) and m['num_clips'] == len(lengths)
    assert m['mDice'] == 1.0 and m['mHD95'] == 0.0
    assert m['EF_MAE'] == 0.0 and m['EF_biplane_cases'] == 2

    # predictions shifted by two rows: the mean of per-frame Dice computed with numpy
    _, m, _ = _run_camus_eval(full, 'test_dataloader', str(tmp_path), split, truth,
                              _shift_down, str(tmp_path / 'full_shift.json'))
    per_clip = {vid: [_numpy_dice(_shift_down(lv[None])[0], lv) for lv in frames]
                for vid, frames in truth.items()}
    expected = [d for vid in per_clip for d in per_clip[vid]]
    assert len(expected) == sum(lengths.values()) == m['num_frames']
    assert m['mDice'] == pytest.approx(np.mean(expected), abs=1e-12)
    ed_dice = [per_clip[v][-1 if v == 'patient0002_2CH' else 0] for v in per_clip]
    assert m['Dice_ED'] == pytest.approx(np.mean(ed_dice), abs=1e-12)
    assert 0.5 < m['mDice'] < 0.99

    # EF comes from the ED and ES frames only: wrong middle frames leave it unchanged, and
    # it equals the EF of CAMUS-Semi (T = 10 clips, ED and ES masks from the _ED/_ES_gt files)
    def ends_only(lv):
        out = np.zeros_like(lv)
        out[[0, -1]] = lv[[0, -1]]
        return out

    _, m_full, dump_full = _run_camus_eval(full, 'test_dataloader', str(tmp_path), split,
                                           truth, ends_only, str(tmp_path / 'full_ends.json'))
    semi_samples, m_semi, dump_semi = _run_camus_eval(
        semi, 'test_dataloader', str(tmp_path), split, truth, lambda lv: lv,
        str(tmp_path / 'semi.json'))
    assert m_full['mDice'] < 0.5 and m_full['EF_MAE'] == 0.0
    ef_full = {c['case_id']: c['ef_pred'] for c in dump_full['ef_cases']}
    ef_semi = {c['case_id']: c['ef_pred'] for c in dump_semi['ef_cases']}
    assert set(ef_full) == {'patient0001', 'patient0002'} and ef_full == ef_semi
    assert all(ef > 20 for ef in ef_full.values())            # the LV does shrink

    # CAMUS-Semi still evaluates only ED and ES, on clips of 10 frames
    assert m_semi['num_frames'] == 2 * len(lengths) and m_semi['mDice'] == 1.0
    for inputs, sample in semi_samples:
        assert inputs.shape[0] == 10
        assert sample.labelled.tolist() == [True] + [False] * 8 + [True]
