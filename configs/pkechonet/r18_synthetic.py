# PKEcho-Net sized for a CPU: ResNet-18 + MRP + KSS on the built-in synthetic clips
# (128 x 128, 10 frames, ED and ES labelled; docs/synthetic_data.md) with the short
# synthetic schedule of configs/echoforge/r18_synthetic.py and the baselines (AdamW 1e-3,
# 6 epochs, batch 2), so the three compare at the same budget:
#
#   python tools/train.py configs/pkechonet/r18_synthetic.py
#
# The model of r50_camus.py with ResNet-18 (undilated: the encoder output is 4 x 4 at
# 128 x 128 and MRP upsamples 4 -> 8 -> 16 -> 32 -> 128, as the paper's model at 128 x
# 128 on EchoNet) and gray normalisation (no ImageNet weights).
_base_ = [
    '../_base_/models/pkechonet_r50.py', '../_base_/datasets/synthetic.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_synthetic.py'
]
model = dict(
    data_preprocessor=dict(mean=127.5, std=127.5),
    backbone=dict(depth=18),
    neck=dict(in_channels=[64, 128, 256, 512]),
    decode_head=dict(in_channels=512))
custom_hooks = [dict(type='PlainCheckpointHook')]
