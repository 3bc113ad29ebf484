# A cheaper, finer per-frame model for the synthetic pretraining and the demo: ResNet-18
# undilated (output stride 32, as ImageNet-style encoders run) + mmseg's FPN neck, the
# FCNHead reading the finest FPN level (stride 4), so masks are decoded from 32 x 32 logits
# at 128 x 128 instead of fcn_r18_synthetic.py's 16 x 16. About a fifth of the dilated
# encoder's multiply-adds, spent on four times the videos (512; docs/evaluation.md, "Where
# the EF bias starts").
_base_ = ['./fcn_r18_synthetic_512.py']
model = dict(
    backbone=dict(dilations=(1, 1, 1, 1), strides=(1, 2, 2, 2)),
    neck=dict(type='FPN', in_channels=[64, 128, 256, 512], out_channels=64, num_outs=4),
    decode_head=dict(in_channels=64, in_index=0, channels=64))
