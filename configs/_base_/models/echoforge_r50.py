# EchoForge as the paper builds it (docs/methods/echoforge.md, "The paper-faithful model"):
# ResNet-50 V1c encoder (output stride 32) -> ARC on the encoder output X at full width
# (anchors in R^C, C = 2048) -> a Mask2Former-style pixel decoder (mmdet's
# MSDeformAttnPixelDecoder, as NCM-Net's released head) over the encoder levels with ARC's
# map as the last -> TSF (eqs 3-4) at the decoder's width D = 256 on its stride-32 level:
# per-query prototypes P_sem (N_q x D), SelfAttn(Q) and SelfAttn(P_sem) separately, masks
# from the query/prototype pairs made on the stride-4 mask features, no static classifier
# -> CPR on the mask features, whose semantic-alignment output is the pseudo-label y^U
# (eqs 5-6). Undilated (a dilated, output-stride-8 ResNet-50 alone costs ~250 G
# multiply-adds on a 10-frame 256 x 256 clip). Stride-4 logits are upsampled bilinearly
# to the input (the segmentor's resize).
# TSF's references are the same in training and inference (reference_mode='two_pass': the
# first and last frame of the clip, ED and ES, with their own first-pass predicted masks).
# The FlameRise schedule of the unsupervised loss is a hook (FlameRiseHook in the
# experiment config's custom_hooks); train_cfg only gives the values before it first runs.
# Named variants in configs/echoforge/variants/: EchoForge-ND (nd_*: the same model without
# the pixel decoder, TSF D = 512, stride-32 logits upsampled bilinearly) and EchoForge-MS
# (ms_*: multi-level TSF, ARC bottleneck, per-class prototypes, reliability-weighted
# pseudo-labels).
#
# No weights here: the paper configs (configs/echoforge/r50_camus*.py, r50_echonet.py) add
# the ImageNet initialisation of paper sec. 4.2, OpenMMLab's ResNet-50 V1c weights
# (backbone.init_cfg, 'open-mmlab://resnet50_v1c'; docs/methods/echoforge.md "ImageNet
# weights"); the synthetic and ResNet-18 configs built on this file start from random weights.
norm_cfg = dict(type='BN', requires_grad=True)
# ImageNet statistics (the gray channel is repeated to the 3 RGB channels)
data_preprocessor = dict(type='EchoDataPreprocessor', mean=[123.675, 116.28, 103.53],
                         std=[58.395, 57.12, 57.375], in_channels=3)
model = dict(
    type='EchoVideoSegmentor',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='ResNetV1c',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 1, 1),
        strides=(1, 2, 2, 2),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        contract_dilation=True),
    # ARC (eqs 1-2): 2 anchors (Table 4), K = 16 neighbours (Fig. 7), interval [0.4, 0.6],
    # feature fusion at the encoder's full width (embed_dims=None)
    neck=dict(
        type='ARCNeck',
        in_channels=[256, 512, 1024, 2048],
        in_index=-1,
        num_anchors=2,
        k=16,
        patch_size=2,
        uncertainty_interval=(0.4, 0.6),
        num_heads=8,
        embed_dims=None,
        temperature=0.1,
        max_weight=0.5),
    # TSF (eqs 3-4) with a Mask2Former-style pixel decoder (ours: the paper names none, its
    # accuracy needs masks decoded at stride 8 or finer): mmdet's MSDeformAttnPixelDecoder
    # over levels 0-3 (level 3 = ARC's output F_t), 6 layers / 3 levels / 4 points / GN as
    # NCM-Net's released head, at TSF's width D = 256 (the head fills in the decoder's
    # widths); TSF attends over the decoder's stride-32 level (tsf_level=0: ARC's map after
    # the multi-scale encoder) and makes its masks on the stride-4 mask features. One
    # sigmoid channel (eq. 9: BCE + Dice).
    decode_head=dict(
        type='TSFHead',
        in_channels=[256, 512, 1024, 2048],
        in_index=[0, 1, 2, 3],
        input_transform='multiple_select',
        channels=256,
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
                                       dropout=0.0, batch_first=True),
                    ffn_cfg=dict(feedforward_channels=1024, num_fcs=2, ffn_drop=0.0,
                                 act_cfg=dict(type='ReLU', inplace=True)))),
            positional_encoding=dict(normalize=True)),
        tsf_level=0,
        cpr_features='mask',
        num_queries=8,
        num_heads=8,
        num_layers=1,
        prototypes='per_query',
        self_attention='separate',
        static_classifier=False,
        reference_mode='two_pass',
        reference_frames=(0, -1),
        noref_loss_weight=0.5,
        dropout_ratio=0.0,
        num_classes=2,
        out_channels=1,
        threshold=0.5,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='BCEDiceLoss', bce_weight=1.0, dice_weight=1.0)),
    # CPR (eqs 5-6) on the prediction features, the pixel decoder's mask features
    # (cpr_features='mask'; decoder_channels = the head's channels; the encoder output,
    # in_channels / in_index, is the fallback for other heads);
    # y^U = CPR's semantic alignment (fusion='cpr'); its reforged labelled frames are
    # supervised with eq. 9's BCE + Dice
    pseudo_labeler=dict(
        type='CPRPseudoLabeler',
        in_channels=2048,
        num_classes=2,
        in_index=-1,
        decoder_channels=256,
        channels=64,
        fusion='cpr',
        loss_decode=dict(type='BCEDiceLoss', bce_weight=1.0, dice_weight=1.0),
        norm_cfg=norm_cfg),
    # starting values; FlameRiseHook sets unsup_weight = lambda(e), unsup_threshold = tau(e)
    train_cfg=dict(unsup_weight=0.0, unsup_threshold=0.95),
    test_cfg=dict(mode='whole'))
