# MSSNet's former echoseg model, kept as the named variant configs/mssnet/variants/r18_*.py
# (the MSSNet configs now use mssnet_mamba.py). As plug-ins (docs/methods/mssnet.md): an mmseg
# backbone -> SSG (Mamba scans over space and time with weight propagation across frames)
# on the stride-8 level -> a light convolutional decode head; RAC mixes the training clips,
# DOC keeps a per-video memory of pseudo-labels with an adaptive offset check and an
# InfoNCE loss. The abstract names no backbone, widths or head (ours, from the public
# SSG.py): a ResNet-18 V1c dilated to output stride 8 (the public SSG encodes to stride 8:
# 32 x 32 tokens at 256 x 256), SSG 32 wide (its embed_dim_ratio) on the 512-channel
# level, mmseg's FCNHead with 256 channels and two 3x3 convs (the public decoder's
# 256-channel 1x1 + 3x3 neck) and one sigmoid channel with BCE + Dice.
_base_ = ['./fcn_r18.py']  # the ResNet-18 V1c at output stride 8 and FCNHead
model = dict(
    # SSG: per-frame spatial scans (with weight propagation, alpha = 0.5 as the public
    # code) then per-position temporal scans, both bidirectional
    neck=dict(
        type='SSGNeck',
        in_channels=[64, 128, 256, 512],
        in_index=-1,
        embed_dims=32,
        scan_orders=('spatial', 'temporal'),
        bidirectional=True,
        propagation=0.5,
        d_state=16,
        d_conv=4,
        expand=2),
    decode_head=dict(channels=256, concat_input=False, out_channels=1, threshold=0.5),
    # DOC on the SSG-guided level: one warm-up epoch, running threshold, prototype InfoNCE
    # (T = 0.07): echoseg's DOC before it followed DOC.py (docs/methods/mssnet.md)
    pseudo_labeler=dict(
        type='DOCPseudoLabeler',
        in_channels=512,
        num_classes=2,
        in_index=-1,
        embed_dims=64,
        temperature=0.07,
        loss_weight=0.1,
        warmup_epochs=1,
        zero_threshold_epochs=0,
        threshold_momentum=0.9,
        contrastive='prototype',
        memory_resolution=64),
    # RAC: ED <-> ES region swap in every clip (the public scheme), cross-clip mix in half
    clip_mixer=dict(type='RACMixer', intra_prob=1.0, inter_prob=0.5, lv_class=1, dilation=0),
    # DOC's pseudo-labels supervise every pixel of the unlabelled frames (a two-class
    # maximum probability is >= 0.5; DOC gives confidence 0 in its warm-up epoch)
    train_cfg=dict(unsup_weight=1.0, unsup_threshold=0.5),
    test_cfg=dict(mode='whole'))
