# Mixing: NCM-Net (ResNet-18 + NCM + UMA, configs/ncmnet/r18_synthetic.py) with EchoForge's
# CPR pseudo-labeler and FlameRise schedule. CPR reforges UMA's mask features (the
# stride-4 pixel-decoder output, decoder_channels = UMA's 64, left in
# clip.extras['decoder_features']); its pseudo-labels of the unlabelled frames are
# supervised with UMA's own loss (BCE + Dice) on the pixels FlameRise's threshold keeps.
_base_ = ['../r18_synthetic.py']
model = dict(
    pseudo_labeler=dict(type='CPRPseudoLabeler', in_channels=512, num_classes=2,
                        in_index=-1, decoder_channels=64, channels=32, fusion='cpr',
                        loss_decode=dict(type='BCEDiceLoss', bce_weight=1.0,
                                         dice_weight=1.0)),
    train_cfg=dict(unsup_weight=0.0, unsup_threshold=0.95))

log_processor = dict(by_epoch=True, custom_cfg=[
    dict(data_src='pseudo_dice', method_name='mean', window_size='epoch')])
custom_hooks = [
    dict(type='PlainCheckpointHook'),
    dict(type='FlameRiseHook', e0=1, e1=4, lambda_max=1.0, tau0=0.95, tau1=0.8),
]
