# mmseg's UPerHead replacing FCNHead by config alone.
_base_ = ['./fcn_r18_synthetic.py']
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    decode_head=dict(
        _delete_=True,
        type='UPerHead',
        in_channels=[64, 128, 256, 512],
        in_index=[0, 1, 2, 3],
        pool_scales=(1, 2, 3, 6),
        channels=64,
        dropout_ratio=0.1,
        num_classes=2,
        norm_cfg=norm_cfg,
        align_corners=False,
        # cross-entropy + Dice over non-ignored pixels (mmseg 1.2.2's DiceLoss counts
        # ignored pixels, which matters for the pseudo-label loss)
        loss_decode=dict(type='BCEDiceLoss', bce_weight=1.0, dice_weight=1.0)))
