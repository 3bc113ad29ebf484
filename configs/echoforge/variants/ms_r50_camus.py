# EchoForge-MS (docs/methods/echoforge.md "Variant EchoForge-MS") on CAMUS-Semi, trained and
# evaluated as configs/echoforge/r50_camus.py (same data, schedule, FlameRise).
_base_ = [
    '../../_base_/models/echoforge_ms_r50.py', '../../_base_/datasets/camus.py',
    '../../_base_/default_runtime.py', '../../_base_/schedules/schedule_50e_adam.py'
]

# the ImageNet ResNet-50 V1c weights of r50_camus.py
model = dict(
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://resnet50_v1c')))
# The paper's augmentations (sec. 4.2): gamma, random scaling, random rotation and random
# contrast, each with p = 0.5; it lists no flip, so the dataset config's flip is dropped.
no_flip_reason = ("EchoForge's paper lists its augmentations (gamma, scaling, rotation, "
                  'contrast, p = 0.5 each) without a flip')
train_pipeline = [t for t in _base_.train_pipeline if t['type'] != 'RandomClipFlip']
train_dataloader = dict(batch_size=4, dataset=dict(pipeline=train_pipeline))
custom_hooks = [
    dict(type='PlainCheckpointHook'),
    dict(type='FlameRiseHook', e0=5, e1=30, lambda_max=1.0, tau0=0.95, tau1=0.8),
]
