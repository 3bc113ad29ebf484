# The former MSSNet model (a named variant; the MSSNet configs use the Mamba network):
# MSSNet sized for a CPU: ResNet-18 + SSG + FCNHead, RAC and DOC, on the built-in synthetic
# clips (128 x 128, 10 frames, ED and ES labelled; docs/synthetic_data.md) with the short
# synthetic schedule of configs/echoforge/r18_synthetic.py and configs/pkechonet/
# r18_synthetic.py (AdamW 1e-3, 6 epochs, batch 2), so the methods compare at one budget:
#
#   python tools/train.py configs/mssnet/variants/r18_synthetic.py
#
# The model of configs/_base_/models/mssnet_r18.py at output stride 16 (the last stage
# dilated, as the other methods' synthetic configs): SSG scans 8 x 8 tokens per frame.
_base_ = [
    '../../_base_/models/mssnet_r18.py', '../../_base_/datasets/synthetic.py',
    '../../_base_/default_runtime.py', '../../_base_/schedules/schedule_synthetic.py'
]
model = dict(backbone=dict(strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2)))

log_processor = dict(by_epoch=True, custom_cfg=[
    dict(data_src='pseudo_dice', method_name='mean', window_size='epoch')])
custom_hooks = [dict(type='PlainCheckpointHook')]
