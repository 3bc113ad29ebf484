# Mixing: PKEcho-Net's MRP + KSS on another mmseg backbone, MobileNetV2
# (configs/pkechonet/r18_synthetic.py with the ResNet-18 replaced). Stages 1, 2, 4, 6
# give 24, 32, 96, 320 channels at strides 4, 8, 16, 16 (the last two stages dilated, as
# the ResNet-18 of r18_synthetic.py), so MRP chains 16 -> 16 -> 8 -> 4 -> 1.
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
    neck=dict(in_channels=[24, 32, 96, 320], scales=(4, 2, 2, 1)),
    decode_head=dict(in_channels=320))
