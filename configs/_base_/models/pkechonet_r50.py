# PKEcho-Net (AAAI 2023) as the paper builds it (docs/methods/pkechonet.md): ResNet-50 ->
# MRP (an affinity estimator per pair of consecutive levels, decoder-free upsampling of
# the masks, eq. 5) -> KSS (kernel refinement, eqs 1-4, S = 3 stages, every stage
# supervised with Dice + boundary loss, eq. 6). One sigmoid mask channel (the LV).
# Backbone: mmseg's ResNet (the torchvision layout: 7x7 stem, so torchvision's ImageNet
# ResNet-50 weights load and the multiply-adds are the paper's), undilated, strides 4-32.
# configs/pkechonet/r50_*.py add those weights (backbone.init_cfg, the file by its download
# URL, as the public code's resnet50(pretrained=True)); the synthetic configs do not.
norm_cfg = dict(type='BN', requires_grad=True)
# ImageNet statistics (the gray channel is repeated to the 3 RGB channels)
data_preprocessor = dict(type='EchoDataPreprocessor', mean=[123.675, 116.28, 103.53],
                         std=[58.395, 57.12, 57.375], in_channels=3)
model = dict(
    type='EchoVideoSegmentor',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='ResNet',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 1, 1),
        strides=(1, 2, 2, 2),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch'),
    # MRP: estimators on levels 0-3 (strides 4, 8, 16, 32), chained 32 -> 16 -> 8 -> 4 -> 1
    neck=dict(type='MRPNeck', in_channels=[256, 512, 1024, 2048], scales=(4, 2, 2, 2),
              neighbourhood=3, norm_cfg=norm_cfg),
    # KSS on the encoder output: d = 32 (the public code), 3 stages (Table 5), 1 head
    decode_head=dict(
        type='KSSHead',
        in_channels=2048,
        in_index=3,
        channels=32,
        num_stages=3,
        num_heads=1,
        ffn_ratio=1.0,
        num_frames=10,
        cross_video='batch_in_training',
        dropout_ratio=0.0,
        num_classes=2,
        out_channels=1,
        threshold=0.5,
        norm_cfg=norm_cfg,
        align_corners=False,
        # eq. 6: Dice + boundary loss on every stage (the Dice term is BCEDiceLoss without
        # its BCE part)
        loss_decode=[
            dict(type='BCEDiceLoss', bce_weight=0.0, dice_weight=1.0, loss_name='loss_dice'),
            dict(type='BoundaryLoss', loss_weight=1.0),
        ]),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
