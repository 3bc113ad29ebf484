# EchoForge on CAMUS-Semi (paper sec. 4.2): ResNet-50 V1c + ARC + TSF + CPR, FlameRise,
# 50 epochs, Adam, poly lr 1e-4 (power 0.9), batch 4 clips of 10 frames ED -> ES, 256 x 256,
# gamma / scale / rotation / contrast augmentation each with p = 0.5 (no flip, below).
# Loss (eq. 9): BCE + Dice on the labelled frames (ED, ES) + lambda(e) x the same loss on
# unlabelled-frame pixels whose pseudo-label confidence >= tau(e).
#
#   python tools/train.py configs/echoforge/r50_camus.py
# Data layout: docs/datasets.md (data/camus by default).
_base_ = [
    '../_base_/models/echoforge_r50.py', '../_base_/datasets/camus.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_50e_adam.py'
]

# ImageNet initialisation (paper sec. 4.2): OpenMMLab's ResNet-50 V1c weights, downloaded
# once into ~/.cache/torch/hub/checkpoints (docs/getting_started.md "ImageNet weights";
# offline: --cfg-options model.backbone.init_cfg.checkpoint=/path/to/resnet50_v1c-2cccc1ad.pth)
model = dict(
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://resnet50_v1c')))

# The paper's augmentations (sec. 4.2): gamma, random scaling, random rotation and random
# contrast, each with p = 0.5; it lists no flip, so the dataset config's flip is dropped.
no_flip_reason = ("EchoForge's paper lists its augmentations (gamma, scaling, rotation, "
                  'contrast, p = 0.5 each) without a flip')
train_pipeline = [t for t in _base_.train_pipeline if t['type'] != 'RandomClipFlip']
train_dataloader = dict(batch_size=4, dataset=dict(pipeline=train_pipeline))

# FlameRise (eqs 7-8): lambda 0 -> 1 and tau 0.95 -> 0.8 between epochs 5 and 30
custom_hooks = [
    dict(type='PlainCheckpointHook'),
    dict(type='FlameRiseHook', e0=5, e1=30, lambda_max=1.0, tau0=0.95, tau1=0.8),
]
