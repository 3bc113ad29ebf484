"""Baselines on the real datasets: EchoNet sample folder for an epoch, CAMUS without data."""
import glob
import json
import os.path as osp
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_baseline_trains_an_epoch_on_echonet_sample(echodata, tmp_path):
    root = osp.join(echodata, 'echonet_sample')
    work = tmp_path / 'work'
    # the sample's rows are all TEST: the seeded ratio split makes it trainable
    options = [
        f'train_dataloader.dataset.data_root={root}',
        f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}',
        'train_dataloader.dataset.split_mode=ratio', 'val_dataloader.dataset.split_mode=ratio',
        'test_dataloader.dataset.split_mode=ratio',
        'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False', 'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False', 'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        'train_cfg.max_epochs=1', 'default_hooks.logger.interval=1',
    ]
    proc = subprocess.run([sys.executable, 'tools/train.py', 'configs/baselines/fcn_r18_echonet.py',
                           '--work-dir', str(work), '--cfg-options', *options], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert osp.isfile(work / 'epoch_1.pth')
    scalars = glob.glob(str(work / '*' / 'vis_data' / 'scalars.json'))
    rows = [json.loads(line) for line in open(scalars[0])]
    train_rows = [r for r in rows if 'loss' in r]
    val_rows = [r for r in rows if 'mDice' in r]
    # 5 training videos (7:1:2 of 7) at batch 2 -> 3 iterations, then one validation
    assert len(train_rows) == 3 and all(r['loss'] > 0 for r in train_rows)
    assert len(val_rows) == 1 and 0.0 <= val_rows[0]['mDice'] <= 1.0


def test_camus_baseline_without_data_points_to_docs(tmp_path):
    proc = subprocess.run([sys.executable, 'tools/train.py', 'configs/baselines/fcn_r50_camus.py',
                           '--work-dir', str(tmp_path),
                           '--cfg-options', f'train_dataloader.dataset.data_root={tmp_path}/nope'],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert 'docs/datasets.md' in proc.stderr and 'nope' in proc.stderr
