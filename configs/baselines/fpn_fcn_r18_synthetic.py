# mmseg's FPN neck added by config alone: the FCNHead reads the finest FPN level.
_base_ = ['./fcn_r18_synthetic.py']
model = dict(
    neck=dict(type='FPN', in_channels=[64, 128, 256, 512], out_channels=64, num_outs=4),
    decode_head=dict(in_channels=64, in_index=0, channels=64))
