"""The few-video recipe: fine-tuning configs load exactly what the pretraining writes."""
import os.path as osp

import pytest
import torch
from mmengine.registry import init_default_scope

from echoseg.utils.config import load_config
from echoseg.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PAIRS = [('configs/baselines/fcn_r18_synthetic_512.py',
          'configs/baselines/fcn_r18_echonet_synpre.py'),
         ('configs/echoforge/r18_synthetic.py', 'configs/echoforge/r18_echonet_synpre.py')]


@pytest.mark.parametrize('pretrain,finetune', PAIRS)
def test_finetune_loads_the_last_pretraining_checkpoint_and_every_weight_fits(pretrain,
                                                                             finetune):
    pre = load_config(osp.join(ROOT, pretrain))
    ft = load_config(osp.join(ROOT, finetune))
    # the path the pretraining run writes: <work_dir>/epoch_<max_epochs>.pth
    assert ft.load_from == osp.join(pre.work_dir, f'epoch_{pre.train_cfg.max_epochs}.pth')
    assert ft.train_dataloader.dataset.type == 'EchoNetDynamicDataset'
    init_default_scope('echoseg')
    torch.manual_seed(0)
    src = MODELS.build(pre.model).state_dict()
    dst = MODELS.build(ft.model).state_dict()
    # every pretrained tensor has a place of the same shape in the fine-tuned model
    assert set(src) == set(dst)
    assert all(src[k].shape == dst[k].shape for k in src)


# the learning curve's other arms (docs/real_data.md): supervised EchoForge and the
# self-trained baseline start from the same pretraining checkpoints
ARMS = [('configs/baselines/fcn_r18_synthetic.py', 'configs/baselines/selftrain_fcn_r18_echonet.py',
         True),
        ('configs/echoforge/r18_synthetic.py', 'configs/echoforge/r18_echonet_supervised.py',
         False)]


@pytest.mark.parametrize('pretrain,arm,semi', ARMS)
def test_learning_curve_arms_take_every_pretrained_weight_they_have(pretrain, arm, semi):
    pre = load_config(osp.join(ROOT, pretrain))
    cfg = load_config(osp.join(ROOT, arm))
    assert bool(cfg.model.get('pseudo_labeler')) == semi
    init_default_scope('echoseg')
    src = MODELS.build(pre.model).state_dict()
    dst = MODELS.build(cfg.model).state_dict()
    # the arm's every tensor comes from the checkpoint with its shape; the supervised
    # EchoForge arm leaves out exactly CPR's (the pseudo-labeler's) tensors
    assert set(dst) <= set(src)
    assert all(src[k].shape == dst[k].shape for k in dst)
    left_out = set(src) - set(dst)
    assert all(k.startswith('pseudo_labeler.') for k in left_out)
    assert bool(left_out) == (not semi and bool(pre.model.get('pseudo_labeler')))
