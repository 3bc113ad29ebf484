# EchoForge as the paper builds it (docs/methods/echoforge.md, "The paper-faithful model"):
# ResNet-50 V1c encoder (output stride 32) -> ARC on the encoder output X at full width
# (anchors in R^C, C = 2048) -> TSF on ARC's recalibrated map F_t only (eqs 3-4:
# per-query prototypes P_sem (N_q x C'), SelfAttn(Q) and SelfAttn(P_sem) separately, masks
# from the query/prototype pairs, no static classifier) -> CPR on TSF's fused features,
# whose semantic-alignment output is the pseudo-label y^U (eqs 5-6).
# Undilated, as the paper's 125 G FLOPs imply (a dilated, output-stride-8 ResNet-50 alone
# costs ~500 G FLOPs on a 10-frame 256 x 256 clip). Stride-32 logits are upsampled
# bilinearly to the input (the segmentor's resize; the paper leaves it open).
# TSF's references are the same in training and inference (reference_mode='two_pass': the
# first and last frame of the clip, ED and ES, with their own first-pass predicted masks).
# The FlameRise schedule of the unsupervised loss is a hook (FlameRiseHook in the
# experiment config's custom_hooks); train_cfg only gives the values before it first runs.
# The earlier design (multi-level TSF, ARC bottleneck, per-class prototypes, reliability-
# weighted pseudo-labels) is the named variant configs/echoforge/variants/.
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
    # TSF (eqs 3-4) on ARC's output F_t (level 3 only); one sigmoid channel (eq. 9: BCE +
    # Dice)
    decode_head=dict(
        type='TSFHead',
        in_channels=2048,
        in_index=3,
        input_transform=None,
        channels=512,
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
    # CPR (eqs 5-6) on TSF's fused features F_t' (decoder_channels = the head's channels;
    # the encoder output, in_channels / in_index, is the fallback for other heads);
    # y^U = CPR's semantic alignment (fusion='cpr'); its reforged labelled frames are
    # supervised with eq. 9's BCE + Dice
    pseudo_labeler=dict(
        type='CPRPseudoLabeler',
        in_channels=2048,
        num_classes=2,
        in_index=-1,
        decoder_channels=512,
        channels=64,
        fusion='cpr',
        loss_decode=dict(type='BCEDiceLoss', bce_weight=1.0, dice_weight=1.0),
        norm_cfg=norm_cfg),
    # starting values; FlameRiseHook sets unsup_weight = lambda(e), unsup_threshold = tau(e)
    train_cfg=dict(unsup_weight=0.0, unsup_threshold=0.95),
    test_cfg=dict(mode='whole'))
