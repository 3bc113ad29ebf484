# The few-video recipe (fcn_r18_echonet_synpre.py) with the soft-area term at the labelled
# frames (SoftAreaLoss: each frame's soft LV area within 8 pixels of the reference region
# against the reference area, relative error; the term that removed the synthetic EF bias,
# docs/evaluation.md, "Where the EF bias starts"). One change against the recipe, measured
# on the 7 shared videos for the ED/ES-mask EF under-read of the recipe (bias -11 points):
#
#   python tools/analysis/method_table.py configs/method_table/ef_recipe.py \
#       --rows 'FCN-R18, soft-area term' --stages pretrain cv --work-root /path/to/runs
_base_ = ['./fcn_r18_echonet_synpre.py']
model = dict(decode_head=dict(loss_decode=[
    dict(type='BCEDiceLoss', bce_weight=1.0, dice_weight=1.0),
    dict(type='SoftAreaLoss', band=8, loss_weight=1.0),
]))
