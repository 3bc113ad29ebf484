# Per-frame ResNet-50 + FCN on CAMUS-Semi with the papers' recipe (Adam 1e-4, poly, 50 ep).
# ImageNet initialisation from a local file: --cfg-options model.pretrained=/path/r50_v1c.pth
_base_ = [
    '../_base_/models/fcn_r50.py', '../_base_/datasets/camus.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_50e_adam.py'
]
