# The paper-faithful ResNet-50 EchoForge (echoforge_r50.py) on the built-in synthetic clips,
# as configs/echoforge/r18_synthetic.py trains the ResNet-18 one: output stride 16 (the last
# stage dilated; at 128 x 128 stride 32 leaves a 4 x 4 map), gray normalisation (no ImageNet
# weights), the 6-epoch synthetic schedule and its FlameRise. The large model beside which
# docs/benchmarks.md puts the real-time model's accuracy (same synthetic protocol):
#
#   python tools/experiments/echoforge_ablation.py --config --extra-configs configs/echoforge/r50_synthetic.py
_base_ = [
    '../_base_/models/echoforge_r50.py', '../_base_/datasets/synthetic.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_synthetic.py'
]
model = dict(
    data_preprocessor=dict(mean=127.5, std=127.5),
    backbone=dict(strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2)),
    decode_head=dict(pixel_decoder=dict(strides=[4, 8, 16, 16])))
log_processor = dict(by_epoch=True, custom_cfg=[
    dict(data_src='pseudo_dice', method_name='mean', window_size='epoch')])
custom_hooks = [
    dict(type='PlainCheckpointHook'),
    dict(type='FlameRiseHook', e0=1, e1=4, lambda_max=1.0, tau0=0.95, tau1=0.8),
]
