# EchoForge on EchoNet-Dynamic (paper sec. 4.2): as r50_camus.py, at 128 x 128 (the 112 x 112
# AVIs are upsampled), batch 4 clips of 10 frames ED -> ES; only ED and ES are traced.
# Output stride 16 (the last ResNet stage dilated, ours): at 128 x 128 the undilated
# stride 32 leaves a 4 x 4 map, where ARC's K = 16 neighbours are every pixel and its
# 2 x 2 patches are image quadrants; stride 16 gives ARC and TSF the 8 x 8 map they see on
# CAMUS at 256 x 256 (multiply-adds in docs/methods/echoforge.md).
_base_ = [
    '../_base_/models/echoforge_r50.py', '../_base_/datasets/echonet_128.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_50e_adam.py'
]

# ImageNet initialisation (paper sec. 4.2): OpenMMLab's ResNet-50 V1c weights, downloaded
# once into ~/.cache/torch/hub/checkpoints (docs/getting_started.md "ImageNet weights";
# offline: --cfg-options model.backbone.init_cfg.checkpoint=/path/to/resnet50_v1c-2cccc1ad.pth)
model = dict(
    backbone=dict(strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2),
                  init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://resnet50_v1c')),
    decode_head=dict(pixel_decoder=dict(strides=[4, 8, 16, 16])))

# the paper's augmentations (sec. 4.2), each with p = 0.5; it lists no flip, so the dataset
# config's flip is dropped
no_flip_reason = ("EchoForge's paper lists its augmentations (gamma, scaling, rotation, "
                  'contrast, p = 0.5 each) without a flip')
train_pipeline = [t for t in _base_.train_pipeline if t['type'] != 'RandomClipFlip']
train_dataloader = dict(batch_size=4, dataset=dict(pipeline=train_pipeline))

custom_hooks = [
    dict(type='PlainCheckpointHook'),
    dict(type='FlameRiseHook', e0=5, e1=30, lambda_max=1.0, tau0=0.95, tau1=0.8),
]
