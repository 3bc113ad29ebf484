# MSSNet sized for a CPU: the Mamba network with SSG, RAC and DOC (configs/_base_/models/
# mssnet_mamba.py) on the built-in synthetic clips (128 x 128, 10 frames, ED and ES
# labelled; docs/synthetic_data.md) with the short synthetic schedule of
# configs/echoforge/r18_synthetic.py and configs/pkechonet/r18_synthetic.py (AdamW 1e-3,
# 6 epochs, batch 2), so the methods compare at one budget:
#
#   python tools/train.py configs/mssnet/synthetic.py
#
# SSG sees the 4 x 4 bottleneck of each frame (its position embedding learned at that
# grid). The former ResNet-18 model: configs/mssnet/variants/r18_synthetic.py.
_base_ = [
    '../_base_/models/mssnet_mamba.py', '../_base_/datasets/synthetic.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_synthetic.py'
]
model = dict(neck=dict(grid_size=(4, 4)))

log_processor = dict(by_epoch=True, custom_cfg=[
    dict(data_src='pseudo_dice', method_name='mean', window_size='epoch')])
custom_hooks = [dict(type='PlainCheckpointHook')]
