"""Train, interrupt, --resume: plain-data checkpoints continue the run exactly."""
import glob
import os.path as osp

import torch
from mmengine.logging import HistoryBuffer

from echoseg.cli.train import main as train_main
from echoseg.testing import write_tiny_config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
BASELINE = osp.join(ROOT, 'configs', 'baselines', 'fcn_r18_synthetic.py')


def test_interrupted_run_resumes_from_last_checkpoint(tmp_path):
    cfg = write_tiny_config(tmp_path, BASELINE)
    work = str(tmp_path / 'work')
    # "interrupted" after epoch 1 of 3
    train_main([cfg, '--work-dir', work, '--cfg-options', 'train_cfg.max_epochs=1'])
    ckpt = osp.join(work, 'epoch_1.pth')
    state = torch.load(ckpt, weights_only=True)  # plain data: loads with the safe unpickler
    hub = state['message_hub']['log_scalars']
    assert not any(isinstance(v, HistoryBuffer) for v in hub.values())
    losses_epoch1 = hub['train/loss']['log'].tolist()
    assert len(losses_epoch1) == 2  # 4 clips / batch 2

    train_main([cfg, '--work-dir', work, '--resume', '--cfg-options', 'train_cfg.max_epochs=3'])
    final = torch.load(osp.join(work, 'epoch_3.pth'), weights_only=True)
    assert final['meta']['epoch'] == 3 and final['meta']['iter'] == 6
    # the loss history continued from the resumed buffer instead of restarting
    history = final['message_hub']['log_scalars']['train/loss']['log'].tolist()
    assert history[:2] == losses_epoch1 and len(history) == 6
    logs = ''.join(open(p).read() for p in glob.glob(osp.join(work, '*', '*.log')))
    assert 'resumed epoch: 1, iter: 2' in logs
    # the weights continued from epoch 1's, not from a fresh initialisation
    assert not torch.equal(final['state_dict']['decode_head.conv_seg.weight'],
                           state['state_dict']['decode_head.conv_seg.weight'])
