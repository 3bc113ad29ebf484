# Per-frame baseline: mmseg ResNet-18 (V1c, dilated to output stride 8) + FCNHead, run on
# every frame of the clip by EchoVideoSegmentor.
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(type='EchoDataPreprocessor', mean=127.5, std=127.5, in_channels=3)
model = dict(
    type='EchoVideoSegmentor',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='ResNetV1c',
        depth=18,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 2, 4),
        strides=(1, 2, 1, 1),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        contract_dilation=True),
    decode_head=dict(
        type='FCNHead',
        in_channels=512,
        in_index=3,
        channels=128,
        num_convs=2,
        concat_input=True,
        dropout_ratio=0.1,
        num_classes=2,
        norm_cfg=norm_cfg,
        align_corners=False,
        # cross-entropy + Dice over non-ignored pixels (mmseg 1.2.2's DiceLoss counts
        # ignored pixels, which matters for the pseudo-label loss)
        loss_decode=dict(type='BCEDiceLoss', bce_weight=1.0, dice_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
