# NCM-Net on EchoNet-Dynamic with the authors' settings (their EchoNet configs:
# 128 x 128, batch 8 clips, the CAMUS recipe otherwise): ResNet-50 + NCM + UMA, clips of
# 10 frames ED -> ES, only ED and ES traced. The 20k iterations of the authors' schedule
# are 22 epochs of the ~933 iterations of the 7,465-video training split (batch 8).
# At 128 x 128 the stride-16 level NCM works on is 8 x 8 (a 7 x 7 window covers most of
# it) and the stride-32 level is 4 x 4.
_base_ = [
    '../_base_/models/ncmnet_r50.py', '../_base_/datasets/echonet.py',
    '../_base_/default_runtime.py'
]

# ImageNet initialisation as the authors' code: torchvision's ResNet-50 weights, downloaded
# once into ~/.cache/torch/hub/checkpoints (docs/getting_started.md "ImageNet weights";
# offline: --cfg-options model.backbone.init_cfg.checkpoint=/path/to/resnet50-0676ba61.pth)
model = dict(
    backbone=dict(init_cfg=dict(
        type='Pretrained',
        checkpoint='https://download.pytorch.org/models/resnet50-0676ba61.pth')))

image_size = (128, 128)
num_frames = 10
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
train_dataloader = dict(batch_size=8, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))

# the authors' schedule (r50_camus.py), 22 epochs
max_epochs = 22
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
