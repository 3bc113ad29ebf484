# EchoForge sized for a CPU: ResNet-18 V1c + ARC + TSF + CPR with FlameRise on the built-in
# synthetic clips (128 x 128, 10 frames, ED and ES labelled; docs/synthetic_data.md), the
# short synthetic schedule of the baselines (configs/baselines/fcn_r18_synthetic.py), so
# the two compare at the same budget. Trains in minutes on 2 CPU cores:
#
#   python tools/train.py configs/echoforge/r18_synthetic.py
#
# The paper-faithful model of r50_camus.py (ARC at full width on the encoder output, the
# pixel decoder with stride-4 mask features, TSF on the decoder's level of ARC's map,
# per-query prototypes, y^U from CPR), with: ResNet-18, output stride 16 (the last stage
# dilated: at 128 x 128 an output stride of 32 leaves 4 x 4 features, where K = 16
# neighbours is every pixel), decoder/TSF/CPR widths 64/64/32, gray normalisation
# (no ImageNet weights), the synthetic schedule (AdamW 1e-3, 6 epochs). Without the pixel
# decoder: configs/echoforge/variants/nd_r18_synthetic.py.
_base_ = [
    '../_base_/models/echoforge_r18.py', '../_base_/datasets/synthetic.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_synthetic.py'
]

# pseudo_dice (Dice of the pseudo-labels against hidden masks, synthetic data only) is
# logged as its running mean over the epoch
log_processor = dict(by_epoch=True, custom_cfg=[
    dict(data_src='pseudo_dice', method_name='mean', window_size='epoch')])

# FlameRise over the 6 epochs: no pseudo-labels in epoch 1, lambda 0 -> 1 and
# tau 0.95 -> 0.8 over epochs 2-4
custom_hooks = [
    dict(type='PlainCheckpointHook'),
    dict(type='FlameRiseHook', e0=1, e1=4, lambda_max=1.0, tau0=0.95, tau1=0.8),
]
