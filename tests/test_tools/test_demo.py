"""tools/demo.py (README command 1 runs it) end to end on its default config, shrunk to 8
training videos, 1 epoch and 4 test clips, with a 2-video EchoNet-layout folder as the
real data: what it writes and prints agrees with the config and with itself."""
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import torch

from echoseg.analysis.phase_bias import ef_line
from echoseg.cli.args import DEMO_CONFIG
from echoseg.testing import write_echonet_folder

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_demo_trains_tests_and_writes_what_it_reports(tmp_path):
    real = str(tmp_path / 'echonet')
    write_echonet_folder(real, [('0XDEMO0001', 12, 2, 8, 55.0),
                                ('0XDEMO0002', 12, 3, 9, 40.0)])
    work = str(tmp_path / 'demo')
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=ROOT)
    proc = subprocess.run(
        [sys.executable, 'tools/demo.py', '--work-dir', work, '--real-data', real,
         '--cfg-options', 'train_cfg.max_epochs=1', 'train_dataloader.dataset.num_videos=8',
         'val_dataloader.dataset.num_videos=4', 'test_dataloader.dataset.num_videos=4'],
        cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    result = json.load(open(osp.join(work, 'metrics.json')))
    assert osp.relpath(result['config'], ROOT) == DEMO_CONFIG
    assert (result['epochs'], result['train_clips'], result['test_clips']) == (1, 8, 4)
    metrics = result['metrics']
    assert int(metrics['EF_num']) == 4 and 0.0 <= metrics['mDice'] <= 1.0
    # the printed EF lines are the saved figures, with their meaning
    assert ef_line(metrics['EF_MAE'], metrics['EF_bias'], 4,
                   'synthetic test clips (ED/ES masks, exact truth)') in proc.stdout
    assert result['real']['data_root'] == real and result['real']['num_clips'] == 2
    assert ef_line(result['real']['EF_MAE'], result['real']['EF_bias'], 2,
                   'real videos (ED/ES masks vs FileList.csv)') in proc.stdout
    assert result['real']['EF_MAE'] >= abs(result['real']['EF_bias']) - 1e-9
    # one overlay row per test clip shown (3), and a checkpoint of plain data
    overlay = cv2.imread(osp.join(work, 'overlay.png'))
    assert overlay is not None and overlay.shape[0] > 3 * 64
    state = torch.load(osp.join(work, 'epoch_1.pth'), map_location='cpu', weights_only=True)
    assert 'state_dict' in state and state['meta']['epoch'] == 1
