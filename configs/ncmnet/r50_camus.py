# NCM-Net on CAMUS-Semi with the authors' settings (their mmseg fork, branch stecho:
# configs ncm/test/stechonet_r50_ncm_stechoheadv3_20k_camus.py): ResNet-50 + NCM + UMA,
# 256 x 256, clips of 10 frames ED -> ES (only ED and ES labelled), batch 2 clips,
# photometric distortion + horizontal flip, SGD (lr 0.01, momentum 0.9, weight decay
# 5e-4), linear warm-up over 2000 iterations from 0.001 x lr, then cosine annealing to
# 20k iterations. echoseg trains by epochs: 57 epochs of the 350 iterations of the
# 700-clip training split (batch 2) = 19,950 iterations, the schedulers count iterations.
#
#   python tools/train.py configs/ncmnet/r50_camus.py
# Data layout: docs/datasets.md (data/camus by default).
_base_ = [
    '../_base_/models/ncmnet_r50.py', '../_base_/datasets/camus.py',
    '../_base_/default_runtime.py'
]

# ImageNet initialisation as the authors' code: torchvision's ResNet-50 weights, downloaded
# once into ~/.cache/torch/hub/checkpoints (docs/getting_started.md "ImageNet weights";
# offline: --cfg-options model.backbone.init_cfg.checkpoint=/path/to/resnet50-0676ba61.pth)
model = dict(
    backbone=dict(init_cfg=dict(
        type='Pretrained',
        checkpoint='https://download.pytorch.org/models/resnet50-0676ba61.pth')))

image_size = (256, 256)
num_frames = 10
# photometric distortion of a gray clip: gamma (brightness) and contrast (ours: echoseg's
# clip transforms stand for mmseg's PhotoMetricDistortion)
train_pipeline = [
    dict(type='LoadEchoVideo'),
    dict(type='LoadEchoAnnotations'),
    dict(type='SampleClipFrames', num_frames=num_frames),
    dict(type='ResizeClip', scale=image_size),
    dict(type='RandomClipFlip', prob=0.5),
    dict(type='RandomClipGamma', prob=0.5),
    dict(type='RandomClipContrast', prob=0.5),
    dict(type='PackEchoInputs'),
]
test_pipeline = [
    dict(type='LoadEchoVideo'),
    dict(type='LoadEchoAnnotations'),
    dict(type='SampleClipFrames', num_frames=num_frames),
    dict(type='ResizeClip', scale=image_size, keep_ori_masks=True),
    dict(type='PackEchoInputs'),
]
train_dataloader = dict(batch_size=2, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))

max_epochs = 57
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=2000),
    dict(type='CosineAnnealingLR', T_max=18000, by_epoch=False, begin=2000, end=20000),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
custom_hooks = [dict(type='PlainCheckpointHook')]
