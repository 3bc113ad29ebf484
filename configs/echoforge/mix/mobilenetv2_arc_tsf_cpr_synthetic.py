# Mixing: another mmseg backbone, MobileNetV2, under ARC + TSF + CPR with FlameRise
# (configs/echoforge/r18_synthetic.py with the ResNet-18 replaced). Stages 1, 2, 4, 6 give
# 24, 32, 96, 320 channels at strides 4, 8, 16, 16 (the last two stages dilated, as for the
# ResNet-18 variant).
_base_ = ['../r18_synthetic.py']
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    backbone=dict(
        _delete_=True,
        type='MobileNetV2',
        widen_factor=1.0,
        strides=(1, 2, 2, 2, 1, 1, 1),
        dilations=(1, 1, 1, 1, 1, 2, 2),
        out_indices=(1, 2, 4, 6),
        norm_cfg=norm_cfg),
    neck=dict(in_channels=[24, 32, 96, 320], num_heads=4),
    decode_head=dict(in_channels=[24, 32, 96, 320]),
    pseudo_labeler=dict(in_channels=320))
