# NCM-Net variant (ours): the authors' model (../r50_camus.py) with echoseg's cross-scale
# step in every NCM layer. The abstract says NCM "captures cross-scale contextual
# correlations between pixels spatially"; the fork's spatial layer is commented out (its
# cross-scale context comes from the head's deformable pixel decoder). Here each stride-16
# position also attends, per frame, to the 7 x 7 window around it on levels 1 and 3
# (strides 8 and 32, projected to 1024 channels and resampled to the stride-16 grid), in a
# 256-wide bottleneck, after the FFN and inside the fork's encoder residual
# (docs/methods/ncmnet.md, "Variants"). About 7.9 M parameters more.
_base_ = ['../r50_camus.py']
model = dict(neck=dict(cross_scale_index=(1, 3)))
