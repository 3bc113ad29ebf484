# NCM-Net variant (ours) on the synthetic clips: ../r18_synthetic.py with the cross-scale
# step of cross_scale_r50_camus.py (levels 1 and 3, 64-wide bottleneck, 7 x 7 window), for
# the same-budget comparison in docs/methods/ncmnet.md.
_base_ = ['../r18_synthetic.py']
model = dict(neck=dict(cross_scale_index=(1, 3)))
