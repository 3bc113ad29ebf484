# EchoForge sized for a CPU on EchoNet-Dynamic layout data (112 x 112 AVIs, ED and ES
# traced; the middle frames of each ED -> ES clip are the unlabelled frames CPR labels):
# the paper-faithful model of r18_synthetic.py (ARC at full width, pixel decoder, TSF on
# the decoder's level of ARC's map, y^U from CPR) at the AVIs' own size, with the encoder
# (ResNet-18 V1c at output stride 8: a 14 x 14 map at 112 x 112), data and schedule of the
# per-frame baseline configs/baselines/fcn_r18_echonet.py, so that the two differ only in
# the modules (docs/real_data.md: cross-validation over the shared sample).
#
#   python tools/train.py configs/echoforge/r18_echonet.py \
#       --cfg-options train_dataloader.dataset.data_root=/path/to/EchoNet-Dynamic
# Initialise from synthetic pretraining with --cfg-options load_from=/path/to/ckpt.pth.
_base_ = [
    '../_base_/models/echoforge_r18.py', '../_base_/datasets/echonet.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_50e_adam.py'
]
model = dict(
    backbone=dict(strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4)),
    # the pixel decoder's level strides follow the dilated encoder
    decode_head=dict(pixel_decoder=dict(strides=[4, 8, 8, 8])))

# The paper's augmentations (sec. 4.2): gamma, random scaling, random rotation and random
# contrast, each with p = 0.5; it lists no flip, so the dataset config's flip is dropped.
no_flip_reason = ("EchoForge's paper lists its augmentations (gamma, scaling, rotation, "
                  'contrast, p = 0.5 each) without a flip')
train_pipeline = [t for t in _base_.train_pipeline if t['type'] != 'RandomClipFlip']
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

log_processor = dict(by_epoch=True, custom_cfg=[
    dict(data_src='pseudo_dice', method_name='mean', window_size='epoch')])
# FlameRise (eqs 7-8) as in r50_camus.py, over the 50-epoch schedule
custom_hooks = [
    dict(type='PlainCheckpointHook'),
    dict(type='FlameRiseHook', e0=5, e1=30, lambda_max=1.0, tau0=0.95, tau1=0.8),
]
