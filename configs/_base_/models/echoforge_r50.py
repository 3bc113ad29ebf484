# EchoForge (docs/methods/echoforge.md): ResNet-50 V1c encoder (standard strides, output
# stride 32) -> ARC neck on the encoder output -> TSF decode head on the last three levels
# (resized to stride 8 and concatenated) -> CPR pseudo-labeler on TSF's fused features.
# Undilated, as the paper's 125 G FLOPs imply (a dilated, output-stride-8 ResNet-50 alone
# costs ~500 G FLOPs on a 10-frame 256 x 256 clip; see docs/methods/echoforge.md).
# The FlameRise schedule of the unsupervised loss is a hook (FlameRiseHook in the
# experiment config's custom_hooks); train_cfg only gives the values before it first runs.
#
# ImageNet initialisation (paper sec. 4.2) from a local file, nothing is downloaded:
#   model.pretrained='/path/to/resnet50_v1c-2cccc1ad.pth'      (mmseg ResNetV1c weights)
# or, for torchvision weights, backbone type 'ResNet' (no deep stem) with
#   backbone.init_cfg=dict(type='Pretrained', checkpoint='/path/to/resnet50-0676ba61.pth').
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
    # ARC (eqs 1-2): 2 anchors (Table 4), K = 16 neighbours (Fig. 7), interval [0.4, 0.6]
    neck=dict(
        type='ARCNeck',
        in_channels=[256, 512, 1024, 2048],
        in_index=-1,
        num_anchors=2,
        k=16,
        patch_size=2,
        uncertainty_interval=(0.4, 0.6),
        num_heads=8,
        embed_dims=256,
        temperature=0.1,
        max_weight=0.5),
    # TSF (eqs 3-4) on levels 1-3 (strides 8, 16, 32, the recalibrated encoder output
    # last), resized to stride 8; one sigmoid channel (eq. 9: BCE + Dice)
    decode_head=dict(
        type='TSFHead',
        in_channels=[512, 1024, 2048],
        in_index=[1, 2, 3],
        input_transform='resize_concat',
        channels=256,
        num_queries=8,
        num_heads=8,
        num_layers=2,
        memory_size=2,
        noref_loss_weight=0.5,
        dropout_ratio=0.1,
        num_classes=2,
        out_channels=1,
        threshold=0.5,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='BCEDiceLoss', bce_weight=1.0, dice_weight=1.0)),
    # CPR (eqs 5-6) on TSF's fused features F_t' (decoder_channels = the head's channels;
    # the recalibrated encoder output, in_channels / in_index, is the fallback for heads
    # without them); sources weighted by their running Dice on the labelled frames
    pseudo_labeler=dict(
        type='CPRPseudoLabeler',
        in_channels=2048,
        num_classes=2,
        in_index=-1,
        decoder_channels=256,
        channels=64,
        fusion='reliability',
        memory_resolution=64,
        norm_cfg=norm_cfg),
    # starting values; FlameRiseHook sets unsup_weight = lambda(e), unsup_threshold = tau(e)
    train_cfg=dict(unsup_weight=0.0, unsup_threshold=0.95),
    test_cfg=dict(mode='whole'))
