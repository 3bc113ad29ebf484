# Per-frame baseline: mmseg ResNet-50 (V1c, output stride 8) + FCNHead.
_base_ = ['./fcn_r18.py']
model = dict(
    backbone=dict(depth=50),
    decode_head=dict(in_channels=2048, channels=256))
