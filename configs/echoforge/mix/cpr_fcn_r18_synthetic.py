# Mixing: EchoForge's CPR pseudo-labeler and FlameRise schedule with mmseg's per-frame
# FCNHead (configs/baselines/fcn_r18_synthetic.py), on the 10-frame ED -> ES clips of
# selftrain_fcn_r18_synthetic.py (8 unlabelled frames for CPR to label; the per-frame
# baseline's 2-frame clips have none), its self-training replaced by CPR. The head keeps its two softmax
# channels; its loss becomes BCEDiceLoss (softmax cross-entropy + Dice), because the
# unsupervised loss ignores low-confidence pixels and mmseg 1.2.2's DiceLoss does not
# exclude ignore_index pixels (docs/methods/echoforge.md, "Loss"). FCNHead leaves no fused
# decoder features in the clip, so CPR reforges the backbone's last level (no
# decoder_channels).
_base_ = ['../../baselines/selftrain_fcn_r18_synthetic.py']
model = dict(
    decode_head=dict(loss_decode=dict(_delete_=True, type='BCEDiceLoss')),
    pseudo_labeler=dict(_delete_=True, type='CPRPseudoLabeler', in_channels=512, num_classes=2,
                        in_index=-1, channels=32, memory_resolution=64),
    train_cfg=dict(unsup_weight=0.0, unsup_threshold=0.95))

log_processor = dict(by_epoch=True, custom_cfg=[
    dict(data_src='pseudo_dice', method_name='mean', window_size='epoch')])
custom_hooks = [
    dict(type='PlainCheckpointHook'),
    dict(type='FlameRiseHook', e0=1, e1=4, lambda_max=1.0, tau0=0.95, tau1=0.8),
]
