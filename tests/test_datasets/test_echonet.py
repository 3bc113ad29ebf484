"""EchoNetDynamicDataset on small folders in the dataset's own layout, and on real samples."""
import csv
import logging
import os
import os.path as osp
import re
import subprocess
import sys

import cv2
import numpy as np
import pytest
from matplotlib.path import Path
from mmengine.logging import MMLogger

from echoseg.datasets.echonet import EchoNetDynamicDataset
from echoseg.datasets.errors import EchoDataError
from echoseg.datasets.transforms import PackEchoInputs
from echoseg.io import read_video
from echoseg.testing import load_clip

SIZE = 48
LIST_FIELDS = ['FileName', 'EF', 'ESV', 'EDV', 'FrameHeight', 'FrameWidth', 'FPS',
               'NumberOfFrames', 'Split']


def ellipse_tracing(cx, cy, a, b):
    """21 rows (X1, Y1, X2, Y2) of an EchoNet-style tracing of an ellipse with vertical
    semi-axis ``a``: row 0 the long axis, rows 1..20 horizontal chords top to bottom."""
    rows = [(cx, cy - a, cx, cy + a)]
    for y in np.linspace(cy - a, cy + a, 22)[1:-1]:
        half = b * np.sqrt(max(0.0, 1 - ((y - cy) / a) ** 2))
        rows.append((cx - half, y, cx + half, y))
    return rows


def write_avi(path, n, size=SIZE, seed=0):
    rng = np.random.default_rng(seed)
    base = cv2.GaussianBlur(rng.integers(0, 120, (size, size)).astype(np.uint8), (5, 5), 2)
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), 50.0, (size, size), True)
    for i in range(n):
        frame = np.clip(base.astype(int) + (i * 7) % 100, 0, 255).astype(np.uint8)
        vw.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
    vw.release()


def make_echonet(root, cases, tracing_suffix='.avi', list_suffix=''):
    """cases: dicts with name, n, frames {frame: (a, b)}, optional split, rows override,
    order (frames in file order), video (False: no AVI), listed_n."""
    os.makedirs(osp.join(root, 'Videos'), exist_ok=True)
    with open(osp.join(root, 'FileList.csv'), 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(LIST_FIELDS)
        for i, c in enumerate(cases):
            w.writerow([c['name'] + list_suffix, 50.0 + i, 30.0 + i, 60.0 + 2 * i, SIZE, SIZE,
                        50, c.get('listed_n', c['n']), c.get('split', 'TRAIN')])
    with open(osp.join(root, 'VolumeTracings.csv'), 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['FileName', 'X1', 'Y1', 'X2', 'Y2', 'Frame'])
        for c in cases:
            for frame in c.get('order', list(c['frames'])):
                a, b = c['frames'][frame]
                rows = ellipse_tracing(SIZE / 2, SIZE / 2, a, b)
                rows = rows[:c.get('rows', {}).get(frame, 21)]
                for r in rows:
                    w.writerow([c['name'] + tracing_suffix] + [f'{v:.6f}' for v in r] + [frame])
    for i, c in enumerate(cases):
        if c.get('video', True):
            write_avi(osp.join(root, 'Videos', c['name'] + '.avi'), c['n'], seed=i)


def standard_cases():
    return [
        # ED traced first and earlier in the video
        dict(name='0XAAA', n=30, frames={5: (18, 12), 20: (13, 8)}),
        # ES earlier in the video AND first in the file: order must not decide
        dict(name='0XBBB', n=25, frames={3: (12, 7), 17: (19, 13)}),
        # ED later in the video, ES first in file order
        dict(name='0XCCC', n=20, frames={15: (17, 12), 2: (11, 8)}, order=[2, 15]),
    ]


def tracing_outline(rows):
    """X1[1:],Y1[1:] then reversed X2[1:],Y2[1:], built here independently of echoseg."""
    rows = np.asarray(rows, dtype=float)
    return np.concatenate([rows[1:, :2], rows[1:, 2:][::-1]])


def reference_mask(rows, shape):
    """Independent rasterisation: pixel centres inside the outline (matplotlib)."""
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    inside = Path(tracing_outline(rows)).contains_points(np.c_[xx.ravel(), yy.ravel()])
    return inside.reshape(shape)


def distance_to_outline(points, poly):
    """Euclidean distance of (x, y) points to the closed polygon's edges."""
    a, b = poly, np.roll(poly, -1, axis=0)
    ab = b - a
    t = ((points[:, None] - a[None]) * ab[None]).sum(-1) / np.maximum((ab ** 2).sum(-1), 1e-12)
    proj = a[None] + np.clip(t, 0, 1)[..., None] * ab[None]
    return np.sqrt(((points[:, None] - proj) ** 2).sum(-1)).min(1)


def assert_close_to_reference(mask, rows):
    """The mask equals the point-in-polygon rasterisation except at pixels whose centre
    lies within one pixel of the traced outline."""
    ref = reference_mask(rows, mask.shape)
    assert ref.sum() > 0
    diff = np.argwhere(mask.astype(bool) != ref)[:, ::-1].astype(float)   # (x, y)
    if len(diff):
        assert distance_to_outline(diff, tracing_outline(rows)).max() <= 1.0


def read_tracing_rows(csv_path, stem):
    out = {}
    with open(csv_path) as f:
        for row in csv.DictReader(f):
            if row['FileName'].replace('.avi', '') == stem:
                out.setdefault(int(row['Frame']), []).append(
                    [float(row[k]) for k in ('X1', 'Y1', 'X2', 'Y2')])
    return out


@pytest.mark.parametrize('suffixes', [('.avi', ''), ('', '.avi')])
def test_data_info_and_ed_by_area(tmp_path, suffixes):
    make_echonet(str(tmp_path), standard_cases(), *suffixes)
    ds = EchoNetDynamicDataset(data_root=str(tmp_path), split='train')
    assert len(ds) == 3
    infos = {ds.get_data_info(i)['video_id']: ds.get_data_info(i) for i in range(3)}
    assert {k: (v['ed_frame'], v['es_frame']) for k, v in infos.items()} == {
        '0XAAA': (5, 20), '0XBBB': (17, 3), '0XCCC': (15, 2)}
    info = infos['0XBBB']
    assert info['video_path'] == osp.join(str(tmp_path), 'Videos', '0XBBB.avi')
    assert info['spacing'] is None and info['view'] == 'A4C'
    assert (info['ef'], info['esv'], info['edv']) == (51.0, 31.0, 62.0)
    assert info['num_frames'] == 25
    rows = np.asarray(ellipse_tracing(SIZE / 2, SIZE / 2, 19, 13))
    poly = info['polygons'][17]
    assert poly.shape == (40, 2)
    np.testing.assert_allclose(poly[:20], rows[1:, :2], atol=1e-5)
    np.testing.assert_allclose(poly[20:], rows[1:, 2:][::-1], atol=1e-5)
    assert info['tracing_areas'][17] > info['tracing_areas'][3]


def test_loaded_clips_match_tracings(tmp_path):
    make_echonet(str(tmp_path), standard_cases())
    ds = EchoNetDynamicDataset(data_root=str(tmp_path), split='all')
    traced = {}
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        rows = read_tracing_rows(osp.join(str(tmp_path), 'VolumeTracings.csv'),
                                 info['video_id'])
        traced[info['video_id']] = rows
        video = read_video(info['video_path'])
        clip = load_clip(info, num_frames=10)
        idx = clip['frame_indices']
        ed, es = info['ed_frame'], info['es_frame']
        assert idx[0] == ed and idx[-1] == es
        np.testing.assert_array_equal(clip['video'][0], video[ed])
        assert clip['labelled'][0] and clip['labelled'][-1] and not clip['labelled'][1:-1].any()
        assert_close_to_reference(clip['masks'][0], rows[ed])
        assert_close_to_reference(clip['masks'][-1], rows[es])
        assert reference_mask(rows[ed], video.shape[1:]).sum() > reference_mask(
            rows[es], video.shape[1:]).sum()
        assert (clip['masks'][0] == 1).sum() > (clip['masks'][-1] == 1).sum()

    # resize: masks nearest-neighbour, spacing stays None, original masks kept
    clip = load_clip(ds.get_data_info(0), num_frames=10, scale=(64, 64))
    assert clip['masks'].shape == (10, 64, 64) and clip['spacing'] is None
    assert set(np.unique(clip['masks'])) <= {0, 1, 255}
    packed = PackEchoInputs()(clip)
    assert tuple(packed['inputs'].shape) == (10, 1, 64, 64)


def test_ratio_split_on_all_test_folder(tmp_path):
    names = [f'0X{i:04d}' for i in range(10)]
    cases = [dict(name=n, n=12, frames={1: (15, 10), 8: (10, 6)}, split='TEST') for n in names]
    make_echonet(str(tmp_path), cases)
    with pytest.raises(EchoDataError, match=r"FileList.csv.*Split == TRAIN.*split_mode='ratio'"):
        EchoNetDynamicDataset(data_root=str(tmp_path), split='train')
    assert len(EchoNetDynamicDataset(data_root=str(tmp_path), split='test')) == 10

    got = {}
    for split in ('train', 'val', 'test'):
        ds = EchoNetDynamicDataset(data_root=str(tmp_path), split=split, split_mode='ratio',
                                   seed=0)
        got[split] = [ds.get_data_info(i)['video_id'] for i in range(len(ds))]
    assert [len(got[s]) for s in ('train', 'val', 'test')] == [7, 1, 2]
    assert sorted(got['train'] + got['val'] + got['test']) == names
    again = EchoNetDynamicDataset(data_root=str(tmp_path), split='train', split_mode='ratio')
    assert [again.get_data_info(i)['video_id'] for i in range(len(again))] == got['train']
    other = [EchoNetDynamicDataset(data_root=str(tmp_path), split='test', split_mode='ratio',
                                   seed=s) for s in range(1, 6)]
    assert any([o.get_data_info(i)['video_id'] for i in range(len(o))] != got['test']
               for o in other)


def test_errors_and_skip_invalid(tmp_path):
    good = dict(name='0XGOOD', n=20, frames={4: (16, 11), 12: (11, 7)})
    bad = [
        (dict(name='0XNOVID', n=20, frames={4: (16, 11), 12: (11, 7)}, video=False),
         r'Videos.0XNOVID.avi: video listed in .*FileList.csv line \d+ not found'),
        (dict(name='0XROWS', n=20, frames={4: (16, 11), 12: (11, 7)}, rows={12: 20}),
         r'VolumeTracings.csv: 0XROWS.avi frame 12 has 20 rows'),
        (dict(name='0XLATE', n=20, frames={4: (16, 11), 25: (11, 7)}),
         r'VolumeTracings.csv: 0XLATE.avi tracing frame 25 .*beyond the video length '
         r'\(20 frames'),
        (dict(name='0XONE', n=20, frames={4: (16, 11)}),
         r'VolumeTracings.csv: 0XONE.avi has 1 traced frame'),
    ]
    for case, pattern in bad:
        root = str(tmp_path / case['name'])
        make_echonet(root, [good, case])
        with pytest.raises(EchoDataError, match=pattern):
            EchoNetDynamicDataset(data_root=root, split='train')

    # beyond NumberOfFrames when the videos are not opened at start-up
    root = str(tmp_path / 'listed')
    make_echonet(root, [dict(name='0XL', n=20, listed_n=10, frames={4: (16, 11), 12: (11, 7)})])
    with pytest.raises(EchoDataError, match=r'frame 12 .*\(10 frames, from NumberOfFrames'):
        EchoNetDynamicDataset(data_root=root, split='train', check_videos=False)

    # corrupt and zero-frame videos
    root = str(tmp_path / 'videos')
    make_echonet(root, [good, dict(name='0XCORRUPT', n=20, frames={4: (16, 11), 12: (11, 7)}),
                        dict(name='0XEMPTY', n=0, frames={4: (16, 11), 12: (11, 7)})])
    with open(osp.join(root, 'Videos', '0XCORRUPT.avi'), 'wb') as f:
        f.write(np.random.default_rng(0).integers(0, 256, 3000, np.uint8).tobytes())
    with pytest.raises(EchoDataError, match='0XCORRUPT.avi: unreadable'):
        EchoNetDynamicDataset(data_root=root, split='train')

    # everything in one folder, skipped and reported
    root = str(tmp_path / 'all')
    make_echonet(root, [good] + [c for c, _ in bad] + [
        dict(name='0XEMPTY', n=0, frames={4: (16, 11), 12: (11, 7)})])
    records = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        ds = EchoNetDynamicDataset(data_root=root, split='train', skip_invalid=True)
    finally:
        logger.removeHandler(handler)
    log = '\n'.join(records)
    assert f'skipped {len(bad) + 1} invalid' in log
    assert all(c['name'] in log for c, _ in bad) and 'has 20 rows' in log
    assert [ds.get_data_info(i)['video_id'] for i in range(len(ds))] == ['0XGOOD']
    reasons = dict(ds.skipped)
    assert len(ds.skipped) == len(bad) + 1
    for case, pattern in bad:
        assert re.search(pattern, reasons[case['name']])
    assert re.search(r'0XEMPTY.avi: the video has zero', reasons['0XEMPTY'])


def _echonet_check(folder):
    """``python tools/dataset_converters/echonet_check.py FOLDER``: (exit status, stdout)."""
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    proc = subprocess.run([sys.executable, 'tools/dataset_converters/echonet_check.py',
                           str(folder)], cwd=root, capture_output=True, text=True,
                          timeout=300)
    return proc.returncode, proc.stdout


def test_echonet_check_tool(tmp_path):
    make_echonet(str(tmp_path / 'ok'), standard_cases())
    code, out = _echonet_check(tmp_path / 'ok')
    assert code == 0
    assert '3 valid' in out and '0 invalid' in out
    make_echonet(str(tmp_path / 'bad'), standard_cases() + [
        dict(name='0XROWS', n=20, frames={4: (16, 11), 12: (11, 7)}, rows={12: 19})])
    code, out = _echonet_check(tmp_path / 'bad')
    assert code == 1
    assert '1 invalid' in out and '0XROWS' in out and 'has 19 rows' in out


def test_real_echonet_samples(echodata):
    root = osp.join(echodata, 'echonet_sample')
    with open(osp.join(root, 'FileList.csv')) as f:
        listed = {r['FileName']: r for r in csv.DictReader(f)}
    ds = EchoNetDynamicDataset(data_root=root, split='test')        # all rows are TEST
    assert len(ds) == len(listed) == 7
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        row = listed[info['video_id']]
        video = read_video(info['video_path'])
        assert video.shape == (int(row['NumberOfFrames']), int(row['FrameHeight']),
                               int(row['FrameWidth']))
        assert info['ef'] == pytest.approx(float(row['EF']))
        rows = read_tracing_rows(osp.join(root, 'VolumeTracings.csv'), info['video_id'])
        assert sorted(rows) == sorted([info['ed_frame'], info['es_frame']])
        clip = load_clip(info, num_frames=10)
        ed_mask, es_mask = clip['masks'][0], clip['masks'][-1]
        assert (ed_mask == 1).sum() > (es_mask == 1).sum()
        assert_close_to_reference(ed_mask, rows[info['ed_frame']])
        assert_close_to_reference(es_mask, rows[info['es_frame']])


def test_base_config_builds(echodata):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from echoseg.registry import DATASETS
    init_default_scope('echoseg')
    cfg = Config.fromfile(osp.join(osp.dirname(osp.dirname(osp.dirname(
        osp.abspath(__file__)))), 'configs', '_base_', 'datasets', 'echonet.py'))
    spec = cfg.train_dataloader.dataset
    spec.update(data_root=osp.join(echodata, 'echonet_sample'), split_mode='ratio')
    ds = DATASETS.build(spec)
    assert len(ds) == 5
    out = ds[0]
    assert tuple(out['inputs'].shape) == (10, 1, 112, 112)
    sample = out['data_samples']
    info = ds.get_data_info(0)
    assert sample.metainfo['frame_indices'][0] == info['ed_frame']
    assert sample.metainfo['frame_indices'][-1] == info['es_frame']
    assert sample.labelled.tolist() == [True] + [False] * 8 + [True]


def test_video_ids_select_after_split(tmp_path):
    cases = standard_cases()
    cases[2]['split'] = 'TEST'
    make_echonet(str(tmp_path), cases, tracing_suffix='', list_suffix='.avi')

    def infos(ds):
        return [ds.get_data_info(i) for i in range(len(ds))]

    everything = {d['video_id']: d for d in infos(EchoNetDynamicDataset(
        data_root=str(tmp_path), split='all'))}
    ds = EchoNetDynamicDataset(data_root=str(tmp_path), split='all',
                               video_ids=['0XCCC.avi', '0XAAA'])
    assert [d['video_id'] for d in infos(ds)] == ['0XAAA', '0XCCC']  # FileList order
    for d in infos(ds):
        ref = everything[d['video_id']]
        assert (d['ed_frame'], d['es_frame'], d['ef']) == (ref['ed_frame'], ref['es_frame'],
                                                           ref['ef'])
    train = EchoNetDynamicDataset(data_root=str(tmp_path), split='train', video_ids=['0XBBB'])
    assert [d['video_id'] for d in infos(train)] == ['0XBBB']

    with pytest.raises(EchoDataError, match=r"FileList.csv: video_ids \['0XZZZ'\] not listed"):
        EchoNetDynamicDataset(data_root=str(tmp_path), split='all', video_ids=['0XAAA', '0XZZZ'])
    with pytest.raises(EchoDataError, match=r"FileList.csv: video_ids \['0XCCC'\] are listed "
                       r"but not in split 'train' .*'0XCCC': 'TEST'.*split='all'"):
        EchoNetDynamicDataset(data_root=str(tmp_path), split='train', video_ids=['0XCCC'])
    with pytest.raises(ValueError, match='video_ids is empty'):
        EchoNetDynamicDataset(data_root=str(tmp_path), split='all', video_ids=[])
    with pytest.raises(TypeError, match='list of names'):
        EchoNetDynamicDataset(data_root=str(tmp_path), split='all', video_ids='0XAAA')
