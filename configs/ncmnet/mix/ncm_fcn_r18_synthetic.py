# Mixing: NCM-Net's NCM neck before mmseg's stock FCNHead. configs/ncmnet/r18_synthetic.py
# (ResNet-18 at output stride 16, 10-frame clips) with UMA replaced by a per-frame FCNHead
# on NCM's level (level 2, 256 channels): the head sees features mined across frames
# without knowing about clips.
_base_ = ['../r18_synthetic.py']
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    decode_head=dict(
        _delete_=True,
        type='FCNHead',
        in_channels=256,
        in_index=2,
        channels=64,
        num_convs=2,
        concat_input=True,
        dropout_ratio=0.1,
        num_classes=2,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='BCEDiceLoss', bce_weight=1.0, dice_weight=1.0)))
