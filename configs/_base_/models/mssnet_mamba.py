# MSSNet (Chen et al., IEEE TMI 2026) as the paper's title and the authors' files describe
# it (docs/methods/mssnet.md): a Mamba-based segmentation network carrying SSG, with RAC and
# DOC as RAC.py and DOC.py (SSS666-klk/MSSNet@aa8b95b).
#
# Network (ours where the paper is silent; from the closest public Mamba segmentation
# networks): a VM-UNet-style U-shape of visual state-space blocks, per frame:
#   VSSEncoder    VMamba v2 patch embedding (two 3x3 s2 convs) -> 4 stages of VSS blocks
#                 (SS2D: 4 scan routes, d_state 1, ssm_ratio 1, no gate; MLP ratio 4) at
#                 strides 4, 8, 16, 32, widths 32, 64, 128, 256, depths 2, 2, 2, 2 (VM-UNet)
#   SAPTAPNeck    SSG as SSG.py at the bottleneck: the stride-32 map embedded to 32 dims,
#                 SAP attention over frame triplets with the previous frame's logits
#                 propagated (alpha 0.5), TAP's temporal gate (the public SSG, checked equal)
#   VSSDecoderHead  VM-UNet's decoder: 1x1 back to 256, VSS blocks (depths 2, 2, 2, 1 from
#                 deep to shallow), patch expanding + skip connections, a final x4
#                 expansion to full resolution, one sigmoid channel, BCE + Dice
# Widths are 1/3 of VM-UNet's (96 ...) and d_state / ssm_ratio those of VMamba-T v2, so
# the model (4.3 M parameters) trains on a CPU; the public SSG model has 1.90 M.
data_preprocessor = dict(type='EchoDataPreprocessor', mean=127.5, std=127.5, in_channels=1)
model = dict(
    type='EchoVideoSegmentor',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='VSSEncoder',
        in_channels=1,
        dims=(32, 64, 128, 256),
        depths=(2, 2, 2, 2),
        out_indices=(0, 1, 2, 3),
        d_state=1,
        ssm_ratio=1.0,
        d_conv=3,
        gate=False,
        directions=4,
        mlp_ratio=4.0,
        drop_path_rate=0.1),
    # SSG (SSG.py's SAP + TAP) on the bottleneck; the grid of its learned position
    # embedding is the bottleneck at 256 x 256 (resized bicubically for other sizes)
    neck=dict(
        type='SAPTAPNeck',
        in_channels=[32, 64, 128, 256],
        embed_dims=32,
        in_index=-1,
        grid_size=(8, 8),
        num_heads=8,
        mlp_ratio=2.0,
        alpha=0.5),
    decode_head=dict(
        type='VSSDecoderHead',
        in_channels=[32, 64, 128, 32],
        in_index=[0, 1, 2, 3],
        input_transform='multiple_select',
        dims=(32, 64, 128, 256),
        depths=(1, 2, 2, 2),
        d_state=1,
        ssm_ratio=1.0,
        d_conv=3,
        gate=False,
        directions=4,
        mlp_ratio=4.0,
        drop_path_rate=0.1,
        channels=8,
        dropout_ratio=0.0,
        num_classes=2,
        out_channels=1,
        threshold=0.5,
        align_corners=False,
        loss_decode=dict(type='BCEDiceLoss', bce_weight=1.0, dice_weight=1.0)),
    # DOC as DOC.py: one warm-up epoch storing every prediction, tau = 0 in the next epoch,
    # then the last batch's mean deviation; replace when dev <= tau, else the stored history
    # supervises; the contrastive term with the file's self-positive on the unprojected
    # stride-8 features (the level of the public SSG decoder's features); weight ours
    pseudo_labeler=dict(
        type='DOCPseudoLabeler',
        in_channels=64,
        num_classes=2,
        in_index=1,
        embed_dims=None,
        temperature=0.07,
        loss_weight=0.1,
        warmup_epochs=1,
        zero_threshold_epochs=1,
        threshold_momentum=0.0,
        contrastive='self',
        memory_resolution=64),
    # RAC as RAC.py: every clip's ED <-> ES region swap appended as an extra sample (the
    # unmixed ED / ES frames stay supervised), regions from the eval-mode prediction
    # (> 0.5), the mixed clip keeping its labels; no inter-clip mixing (a named variant)
    clip_mixer=dict(
        type='RACMixer',
        intra_prob=1.0,
        inter_prob=0.0,
        lv_class=1,
        dilation=0,
        extra_sample=True,
        region_from='prediction',
        predict_mode='eval',
        label_mode='unchanged'),
    # DOC's pseudo-labels supervise every pixel of the unlabelled frames (weight not in
    # DOC.py: ours; a two-class maximum probability is >= 0.5)
    train_cfg=dict(unsup_weight=1.0, unsup_threshold=0.5),
    test_cfg=dict(mode='whole'))
