"""Which configs start from ImageNet weights: the ResNet-50 configs at the papers' settings
do, with the weights of the paper or its code; the ResNet-18, synthetic, synthetic-
pretrained, real-time and baseline configs train from random weights (or their
``load_from``)."""
import glob
import os.path as osp

import pytest

from echoseg.utils.config import load_config
from echoseg.utils.pretrained import (OPENMMLAB_RESNET50_V1C, TORCHVISION_RESNET50,
                                      pretrained_checkpoints)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_DIR = osp.join(ROOT, 'configs')
CONFIGS = sorted(osp.relpath(p, CONFIG_DIR)
                 for p in glob.glob(osp.join(CONFIG_DIR, '**', '*.py'), recursive=True)
                 if '_base_' not in p and 'method_table' not in p)   # protocols, no models
#: config -> (backbone type, checkpoint)
IMAGENET = {
    'echoforge/r50_camus.py': ('ResNetV1c', OPENMMLAB_RESNET50_V1C),
    'echoforge/r50_camus_full.py': ('ResNetV1c', OPENMMLAB_RESNET50_V1C),
    'echoforge/r50_echonet.py': ('ResNetV1c', OPENMMLAB_RESNET50_V1C),
    # the variants train as r50_camus.py, so they start from the same weights
    'echoforge/variants/ms_r50_camus.py': ('ResNetV1c', OPENMMLAB_RESNET50_V1C),
    'echoforge/variants/nd_r50_camus.py': ('ResNetV1c', OPENMMLAB_RESNET50_V1C),
    'pkechonet/r50_camus.py': ('ResNet', TORCHVISION_RESNET50),
    'pkechonet/r50_echonet.py': ('ResNet', TORCHVISION_RESNET50),
    # trains as r50_echonet.py, with phase-shifted clips
    'pkechonet/variants/shifted_clips_r50_echonet.py': ('ResNet', TORCHVISION_RESNET50),
    # the authors' preset: resnet50(pretrained=True) in models/PKEchoNet.py
    'pkechonet/authors_r50_camus.py': ('ResNet', TORCHVISION_RESNET50),
    'ncmnet/r50_camus.py': ('ResNet', TORCHVISION_RESNET50),
    'ncmnet/r50_echonet.py': ('ResNet', TORCHVISION_RESNET50),
    # NCM-Net's variants train as r50_camus.py
    'ncmnet/variants/cross_scale_r50_camus.py': ('ResNet', TORCHVISION_RESNET50),
    'ncmnet/variants/cfb_loss_r50_camus.py': ('ResNet', TORCHVISION_RESNET50),
    'ncmnet/variants/boundary_v2_r50_camus.py': ('ResNet', TORCHVISION_RESNET50),
}


def test_the_v1c_name_is_the_file_mmengine_downloads():
    from mmengine.runner.checkpoint import get_external_models
    assert get_external_models()['resnet50_v1c'].endswith('/resnet50_v1c-2cccc1ad.pth')


def test_every_listed_config_exists():
    assert set(IMAGENET) <= set(CONFIGS)


@pytest.mark.parametrize('name', CONFIGS)
def test_only_the_paper_r50_configs_start_from_imagenet(name):
    cfg = load_config(osp.join(CONFIG_DIR, name))
    found = pretrained_checkpoints(cfg.model)
    if name not in IMAGENET:
        assert found == [], f'{name} should train from random weights'
        return
    backbone_type, checkpoint = IMAGENET[name]
    assert found == [('model.backbone.init_cfg.checkpoint', checkpoint)]
    assert cfg.model.backbone.type == backbone_type and cfg.model.backbone.depth == 50
    assert cfg.get('load_from') is None
