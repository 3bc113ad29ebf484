"""The few-video recipe: fine-tuning configs load exactly what the pretraining writes."""
import os.path as osp

import pytest
import torch
from mmengine.registry import init_default_scope

from echoseg.cli import load_config
from echoseg.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PAIRS = [('configs/baselines/fcn_r18_synthetic.py', 'configs/baselines/fcn_r18_echonet_synpre.py'),
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
