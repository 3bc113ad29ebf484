# Mixing: mmseg's FPN neck before EchoForge's TSF head (supervised, no pseudo-labeler).
# configs/baselines/fpn_fcn_r18_synthetic.py with the FCNHead replaced by TSFHead on the
# finest FPN level (stride 4), one sigmoid channel with BCE + Dice (eq. 9).
_base_ = ['../../baselines/fpn_fcn_r18_synthetic.py']
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    decode_head=dict(
        _delete_=True,
        type='TSFHead',
        in_channels=64,
        in_index=0,
        channels=64,
        num_queries=8,
        num_heads=4,
        num_layers=2,
        memory_size=2,
        dropout_ratio=0.1,
        num_classes=2,
        out_channels=1,
        threshold=0.5,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='BCEDiceLoss')))
