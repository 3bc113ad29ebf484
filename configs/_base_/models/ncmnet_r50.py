# NCM-Net (IEEE TMI 2025) as the authors' configs build it (docs/methods/ncmnet.md):
# ResNet-50 (torchvision layout, strides 4-32) -> NCM on the stride-16 level (1024
# channels: 5 layers of 7 x 7 x 7 spatio-temporal neighbourhood attention with 4 heads,
# FFN 1024, plus our cross-scale spatial step reading the stride-8 and stride-32 levels)
# -> UMA head (Mask2Former-style decoder, 256 wide, 8 heads, 9 layers, memories at
# strides 32/16/8, masks on the stride-4 features, one query = one sigmoid LV channel,
# cross-attention masked to the unreliable pixels p in [0.4, 0.6]); BCE + Dice on every
# layer's prediction of ED and ES, and the cross-frame boundary constraint on the final
# predictions of every frame.
# The authors freeze the backbone's batch-norm affine parameters (requires_grad=False) and
# load torchvision's ImageNet ResNet-50: configs/ncmnet/r50_*.py add it (backbone.init_cfg,
# the file by its download URL); the synthetic configs built on this file do not.
backbone_norm_cfg = dict(type='BN', requires_grad=False)
norm_cfg = dict(type='BN', requires_grad=True)
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
        norm_cfg=backbone_norm_cfg,
        norm_eval=False,
        style='pytorch'),
    neck=dict(
        type='NCMNeck',
        in_channels=[256, 512, 1024, 2048],
        in_index=2,
        cross_scale_index=(1, 3),
        num_layers=5,
        num_heads=4,
        kernel_size=(7, 7, 7),
        cross_scale_kernel=7,
        cross_scale_channels=256,
        ffn_channels=1024,
        rel_pos_bias=True),
    decode_head=dict(
        type='UMAHead',
        in_channels=[256, 512, 1024, 2048],
        in_index=[0, 1, 2, 3],
        input_transform='multiple_select',
        channels=256,
        num_layers=9,
        num_heads=8,
        ffn_channels=2048,
        num_feature_levels=3,
        uncertainty_interval=(0.4, 0.6),
        deep_supervision=True,
        dropout_ratio=0.0,
        num_classes=2,
        out_channels=1,
        threshold=0.5,
        norm_cfg=norm_cfg,
        align_corners=False,
        # the authors: sigmoid cross-entropy + binary Dice (eps 1), weights 1 and 1; the
        # sigmoid is applied once, inside the loss
        loss_decode=dict(type='BCEDiceLoss', bce_weight=1.0, dice_weight=1.0, smooth=1.0),
        loss_temporal=dict(type='CrossFrameBoundaryLoss', min_tolerance=1.0,
                           motion_factor=2.0, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
