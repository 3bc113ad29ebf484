"""tools/infer.py (echoseg.cli.infer) end to end with a tiny model: every output file,
invalid inputs."""
import csv
import json
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest

from echoseg.cli.infer import main
from echoseg.io import read_mask, video_info, write_video

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_cli_writes_every_output(tiny_model_files, tmp_path, capsys):
    config, ckpt, root = tiny_model_files
    out = tmp_path / 'out'
    rc = main([config, ckpt, str(root / 'videos'), '--out-dir', str(out), '--spacing',
               '0.3', '0.3'])
    assert rc == 0, capsys.readouterr().err
    for name, n in (('beat', 20), ('half', 6)):
        masks = read_mask(str(out / f'{name}_masks.nii.gz'))
        assert masks.shape == (n, 40, 56) and masks.max() <= 1
        data = json.loads((out / f'{name}.json').read_text())
        assert data['num_frames'] == n and data['units']['volume'] == 'ml'
        assert data['spacing'] == [0.3, 0.3] and len(data['volumes']) == n
        assert data['source'].endswith(name + ('.avi' if name == 'beat' else '.nii.gz'))
        with open(out / f'{name}.csv') as f:
            rows = list(csv.DictReader(f))
        assert len(rows) == n and list(rows[0]) == ['frame', 'area', 'volume', 'is_ed',
                                                    'is_es', 'lv_components',
                                                    'border_pixels']
        with open(out / f'{name}_beats.csv') as f:
            beat_rows = list(csv.DictReader(f))
        assert len(beat_rows) == len(data['beats'])
        for row, beat in zip(beat_rows, data['beats']):
            assert row['flags'] == ';'.join(beat['flags'])
            assert int(row['used']) == int(beat['used'])
        assert data['postprocess'] == dict(largest_component=True, fill_holes=True,
                                           temporal_window=0)
        assert video_info(str(out / f'{name}_overlay.mp4')).num_frames == n
        png = cv2.imread(str(out / f'{name}_curves.png'))
        assert png is not None and png.shape[2] == 3
    assert json.loads((out / 'beat.json').read_text())['fps'] == pytest.approx(25.0)
    with open(out / 'summary.csv') as f:
        summary = list(csv.DictReader(f))
    assert [r['video'] for r in summary] == ['beat', 'half']
    assert {'num_ed', 'num_es', 'ef_mean', 'num_beats_used', 'flags', 'ef_note'} <= set(
        summary[0])


def test_cli_invalid_inputs(tiny_model_files, beating_disc, tmp_path):
    config, ckpt, root = tiny_model_files
    folder = tmp_path / 'mixed'
    folder.mkdir()
    write_video(str(folder / 'good.avi'), beating_disc(n=7), fps=25.0)
    (folder / 'broken.avi').write_bytes(b'RIFF\x00\x00 not a video')
    out = tmp_path / 'out'
    # the thin tool script: a clear error naming the file, exit status 2
    proc = subprocess.run([sys.executable, 'tools/infer.py', config, ckpt, str(folder),
                           '--out-dir', str(out), '--no-video'], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert 'broken.avi' in proc.stderr and 'error:' in proc.stderr
    rc = main([config, ckpt, str(folder), str(tmp_path / 'missing.mp4'), '--out-dir',
               str(out), '--no-video', '--skip-invalid', '--mask-format', 'npz'])
    assert rc == 0
    assert osp.isfile(out / 'good_masks.npz') and not osp.exists(out / 'good_overlay.mp4')
    assert np.load(out / 'good_masks.npz')['masks'].shape == (7, 40, 56)
    with open(out / 'summary.csv') as f:
        assert [r['video'] for r in csv.DictReader(f)] == ['good']
    # nothing readable at all: exit status 1
    assert main([config, ckpt, str(folder / 'broken.avi'), '--out-dir', str(out),
                 '--skip-invalid']) == 1


def test_cli_missing_checkpoint(tiny_model_files, tmp_path, capsys):
    config, _, root = tiny_model_files
    rc = main([config, str(tmp_path / 'nothere.pth'), str(root / 'videos'), '--out-dir',
               str(tmp_path / 'o')])
    assert rc == 2 and 'nothere.pth: checkpoint file not found' in capsys.readouterr().err


def test_cli_walks_folders_recursively_reads_dicom_and_reports_speed(tiny_model_files,
                                                                      beating_disc, tmp_path,
                                                                      capsys):
    pytest.importorskip('pydicom', reason='pydicom is not installed')
    from echoseg.testing import write_dicom_cine as write_cine
    config, ckpt, _ = tiny_model_files
    tree = tmp_path / 'study'
    (tree / 'a' / 'b').mkdir(parents=True)
    write_video(str(tree / 'top.avi'), beating_disc(n=12), fps=25.0)
    write_cine(tree / 'a' / 'b' / 'IMG0001', beating_disc(n=9))  # DICOM without suffix
    (tree / 'a' / 'notes.txt').write_text('not a video')
    out = tmp_path / 'out'
    rc = main([config, ckpt, str(tree), '--out-dir', str(out), '--no-video',
               '--frame-step', '2'])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    dicom = json.loads((out / 'IMG0001.json').read_text())
    assert dicom['num_frames'] == 9 and dicom['fps'] == pytest.approx(50.0)
    assert dicom['spacing'] == pytest.approx([0.3, 0.45])  # ultrasound regions, cm -> mm
    assert json.loads((out / 'top.json').read_text())['num_frames'] == 12
    assert 'frame step 2' in captured.out
    assert '21 frames in' in captured.out and 'frames/s' in captured.out
