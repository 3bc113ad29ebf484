# configs/baselines/fcn_r18_synthetic.py with a soft-area term at the labelled frames
# (SoftAreaLoss: each frame's soft LV area within 8 pixels of the reference region against
# the reference area, relative error),
# the first change measured against the EF bias (docs/evaluation.md, "Where the EF bias
# starts").
_base_ = ['./fcn_r18_synthetic.py']
model = dict(decode_head=dict(loss_decode=[
    dict(type='BCEDiceLoss', bce_weight=1.0, dice_weight=1.0),
    dict(type='SoftAreaLoss', band=8, loss_weight=1.0),
]))
