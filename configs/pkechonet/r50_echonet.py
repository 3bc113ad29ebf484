# PKEcho-Net on EchoNet-Dynamic (paper "Implementation Details"): ResNet-50 + MRP + KSS
# at 128 x 128 (the 112 x 112 AVIs upsampled), clips of 10 frames ED -> ES, only ED and
# ES traced; the recipe of r50_camus.py. Undilated like the paper's model: the encoder
# output is 4 x 4 and MRP upsamples 4 -> 8 -> 16 -> 32 -> 128.
_base_ = [
    '../_base_/models/pkechonet_r50.py', '../_base_/datasets/echonet.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_50e_adam.py'
]

# ImageNet initialisation as the authors' code: torchvision's ResNet-50 weights, downloaded
# once into ~/.cache/torch/hub/checkpoints (docs/getting_started.md "ImageNet weights";
# offline: --cfg-options model.backbone.init_cfg.checkpoint=/path/to/resnet50-0676ba61.pth)
model = dict(
    backbone=dict(init_cfg=dict(
        type='Pretrained',
        checkpoint='https://download.pytorch.org/models/resnet50-0676ba61.pth')))
optim_wrapper = dict(optimizer=dict(lr=1e-3))

image_size = (128, 128)
num_frames = 10
train_pipeline = [
    dict(type='LoadEchoVideo'),
    dict(type='LoadEchoAnnotations'),
    dict(type='SampleClipFrames', num_frames=num_frames),
    dict(type='ResizeClip', scale=image_size),
    dict(type='RandomClipFlip', prob=0.5),
    dict(type='RandomClipGamma', prob=0.5, gamma_range=(0.85, 1.15)),
    dict(type='RandomClipContrast', prob=0.5, contrast_range=(0.85, 1.15)),
    dict(type='RandomClipRotation', prob=0.5, angle_range=(-20.0, 20.0)),
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
custom_hooks = [dict(type='PlainCheckpointHook')]
