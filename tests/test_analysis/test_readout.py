"""echoseg.analysis.readout (tools/analysis/readout_measure.py) on a tiny EchoNet-layout
folder and a tiny model: the numbers trace back to the predictor and the tracings; flip
averaging is mirror-exact."""
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config

from echoseg.analysis import readout as tool
from echoseg.apis import VideoPredictor, init_model
from echoseg.datasets.echonet import EchoNetDynamicDataset
from echoseg.io import read_volume
from echoseg.testing import load_clip, write_echonet_folder, write_tiny_echonet_config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASE = osp.join(ROOT, 'configs', 'baselines', 'fcn_r18_echonet.py')
NAMES = ['0XRO0001', '0XRO0002', '0XRO0003']


def dice(p, g):
    p, g = p == 1, g == 1
    total = p.sum() + g.sum()
    return 1.0 if total == 0 else 2.0 * (p & g).sum() / total


def _fake_cv_dir(tmp_path):
    data = tmp_path / 'data'
    videos = [(name, 12, 2, 8, 55.0 + 3 * i) for i, name in enumerate(NAMES)]
    write_echonet_folder(str(data), videos)
    efs = {name: ef for name, _, _, _, ef in videos}
    config = write_tiny_echonet_config(tmp_path, BASE)
    torch.manual_seed(0)
    model = init_model(config)
    cv_dir = tmp_path / 'cv'
    run_dir = cv_dir / 'fold0'
    run_dir.mkdir(parents=True)
    ckpt = run_dir / 'epoch_1.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, str(ckpt))
    Config.fromfile(config).dump(str(run_dir / 'run_config.py'))
    held_out = NAMES[:2]
    (cv_dir / 'cross_validation.json').write_text(json.dumps(dict(
        settings=dict(data_root=str(data)),
        runs=[dict(name='fold0', held_out=held_out, checkpoint=str(ckpt))])))
    return cv_dir, model, str(data), efs, held_out


def test_readout_measure_end_to_end(tmp_path):
    cv_dir, model, data_root, efs, held_out = _fake_cv_dir(tmp_path)
    tool.main([str(cv_dir), '--labels', 'tiny', '--out-dir', str(tmp_path / 'out'),
               '--threads', '1'])
    assert osp.isfile(tmp_path / 'out' / 'readout_measure.md')
    out = json.loads((tmp_path / 'out' / 'readout_measure.json').read_text())
    videos = out['results']['tiny']['videos']
    assert sorted(videos) == sorted(held_out)
    ds = EchoNetDynamicDataset(data_root=data_root, split='all', video_ids=held_out,
                               pipeline=[])
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        clip = load_clip(info, num_frames=2)
        ed, es = int(clip['ed_index']), int(clip['es_index'])
        frames, _ = read_volume(info['video_path'])
        masks = VideoPredictor(model, postprocess=False).predict(frames).masks
        rec = videos[info['video_id']]
        # independently: the plain prediction's Dice at the traced frames
        expect_ed = dice(masks[clip['frame_indices'][ed]], clip['masks'][ed])
        expect_es = dice(masks[clip['frame_indices'][es]], clip['masks'][es])
        assert rec['original']['raw']['dice_ed'] == pytest.approx(expect_ed)
        assert rec['original']['raw']['dice_es'] == pytest.approx(expect_es)
        # flip averaging: the mirrored video scores exactly as the original
        for post in ('raw', 'post'):
            a, b = rec['original+tta'][post], rec['mirrored+tta'][post]
            assert a['dice_ed'] == b['dice_ed'] and a['dice_es'] == b['dice_es']
            for r in rec.values():
                ef = r[post]['ef_trusted']
                assert ef is None or 0 <= ef <= 100
        assert rec['original']['raw']['ef_masks_error'] is None or np.isclose(
            abs(rec['original']['raw']['ef_masks'] - efs[info['video_id']]),
            rec['original']['raw']['ef_masks_error'])
    summary = out['results']['tiny']['summary']
    assert set(summary) == {f'{v}/{p}' for v in tool.VIEWS for p in tool.POST}
    assert summary['original/raw']['num_videos'] == 2
    # --merge of the one file gives the same summary; a video measured twice is an error
    first = str(tmp_path / 'out' / 'readout_measure.json')
    tool.main(['--merge', first, '--out-dir', str(tmp_path / 'merged')])
    merged = json.loads((tmp_path / 'merged' / 'readout_measure.json').read_text())
    assert merged['results']['tiny']['summary'] == summary
    with pytest.raises(SystemExit):
        tool.main(['--merge', first, first, '--out-dir', str(tmp_path / 'twice')])


def test_readout_measure_bad_input(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        tool.main([str(tmp_path / 'missing')])
    assert exc.value.code == 2
    assert 'cross_validation.json: not found' in capsys.readouterr().err
