# NCM-Net (IEEE TMI 2025) as the authors' fork builds it (docs/methods/ncmnet.md; their
# model config echo/configs/_base_/models/stechonet_r50_ncm_stechoheadv3.py):
# ResNet-50 (torchvision layout, strides 4-32) -> NCM on the stride-16 level (1024
# channels: 5 layers of 7 x 7 x 7 spatio-temporal neighbourhood attention with 4 heads,
# ReLU FFN 1024, the fork's residuals; no cross-scale step, as released) -> UMA head
# (mmdet's MSDeformAttnPixelDecoder: 6 deformable-attention layers over the strides
# 32/16/8, 8 heads, 4 points, GroupNorm 32, its FPN step giving stride-4 mask features;
# a Mask2Former-style decoder, 256 wide, 8 heads, ReLU FFN 2048, 9 layers, one query =
# one sigmoid LV channel, cross-attention masked to the unreliable pixels p in
# [0.4, 0.6]); sigmoid cross-entropy + Dice on every layer's prediction of ED and ES.
# Not in the fork's NCM config, kept as named variants (configs/ncmnet/variants/): the
# cross-scale step in NCM, the cross-frame boundary loss, the fork's BoundaryLossV2 term.
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
        layer_form='fork',
        cross_scale_index=(),        # the variant variants/cross_scale_*.py sets (1, 3)
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
        ffn_activation='relu',
        num_feature_levels=3,
        uncertainty_interval=(0.4, 0.6),
        deep_supervision=True,
        # mmdet's own decoder, found in mmdet's registry by its scope prefix; UMAHead fills
        # in the widths (in_channels, feat/out channels, embed_dims, num_feats) from its
        # own in_channels and channels
        pixel_decoder=dict(
            type='mmdet.MSDeformAttnPixelDecoder',
            strides=[4, 8, 16, 32],
            num_outs=3,
            norm_cfg=dict(type='GN', num_groups=32),
            act_cfg=dict(type='ReLU'),
            encoder=dict(
                num_layers=6,
                layer_cfg=dict(
                    self_attn_cfg=dict(num_heads=8, num_levels=3, num_points=4,
                                       im2col_step=64, dropout=0.0, batch_first=True,
                                       norm_cfg=None, init_cfg=None),
                    ffn_cfg=dict(feedforward_channels=1024, num_fcs=2, ffn_drop=0.0,
                                 act_cfg=dict(type='ReLU', inplace=True))),
                init_cfg=None),
            positional_encoding=dict(normalize=True),
            init_cfg=None),
        dropout_ratio=0.0,
        num_classes=2,
        out_channels=1,
        threshold=0.5,
        norm_cfg=norm_cfg,
        align_corners=False,
        # the authors: sigmoid cross-entropy + binary Dice (eps 1), weights 1 and 1; the
        # sigmoid is applied once, inside the loss
        # (no loss_temporal: the cross-frame boundary loss is variants/cfb_loss_*.py)
        loss_decode=dict(type='BCEDiceLoss', bce_weight=1.0, dice_weight=1.0, smooth=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
