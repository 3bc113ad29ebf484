# fcn_r18_synthetic_512.py with fcn_r18_synthetic_area.py's soft-area term at the labelled
# frames (SoftAreaLoss, band 8, weight 1): one change against the EF bias, measured in
# docs/evaluation.md ("Where the EF bias starts").
_base_ = ['./fcn_r18_synthetic_512.py']
model = dict(decode_head=dict(loss_decode=[
    dict(type='BCEDiceLoss', bce_weight=1.0, dice_weight=1.0),
    dict(type='SoftAreaLoss', band=8, loss_weight=1.0),
]))
