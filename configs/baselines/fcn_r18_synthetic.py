# Per-frame ResNet-18 + FCN trained on built-in synthetic echo (docs/synthetic_data.md).
# The model segments each frame on its own and only ED and ES carry masks, so its training
# clips are those two frames (T = 2): the supervision of 10-frame clips at a fifth of the
# cost, spent on more videos (128, batches of 8). Videos are rendered at EchoNet-Dynamic's
# 112 x 112 and resized to the network's 128 x 128; appearance augmentations (gain / TGC,
# depth fade, blur, speckle) widen the look. tools/experiments/synthetic_to_real.py trains
# this config and tests it on real EchoNet frames.
_base_ = [
    '../_base_/models/fcn_r18.py', '../_base_/datasets/synthetic.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_synthetic.py'
]
render_size = (112, 112)
train_pipeline = [
    dict(type='LoadEchoVideo'),
    dict(type='LoadEchoAnnotations'),
    dict(type='SampleClipFrames', num_frames=2),
    dict(type='ResizeClip', scale={{_base_.image_size}}),
    dict(type='RandomClipFlip', prob=0.5),  # mirrored views (LV on the left)
    dict(type='RandomClipScale', prob=0.5),
    dict(type='RandomClipRotation', prob=0.5),
    dict(type='RandomTimeGainCompensation', prob=0.5),
    dict(type='RandomDepthFade', prob=0.3),
    dict(type='RandomClipBlur', prob=0.3),
    dict(type='RandomSpeckleNoise', prob=0.3),
    dict(type='RandomClipGamma', prob=0.5),
    dict(type='RandomClipContrast', prob=0.5),
    dict(type='PackEchoInputs'),
]
train_dataloader = dict(
    batch_size=8,
    dataset=dict(num_videos=128, image_size=render_size, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(image_size=render_size))
test_dataloader = dict(dataset=dict(image_size=render_size))
