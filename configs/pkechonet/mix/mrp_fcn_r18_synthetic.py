# Mixing: mmseg's stock FCNHead with PKEcho-Net's decoder-free MRP upsampling. The
# per-frame baseline configs/baselines/fcn_r18_synthetic.py (ResNet-18 V1c, output stride
# 8: levels at strides 4, 8, 8, 8) with MRPNeck; EchoVideoSegmentor sends FCNHead's
# stride-8 logits through the neck's affinities (8 -> 8 -> 8 -> 4 -> 1: the two dilated
# levels smooth at the same resolution, scale 1) instead of a bilinear resize, in training
# and inference.
_base_ = ['../../baselines/fcn_r18_synthetic.py']
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    neck=dict(type='MRPNeck', in_channels=[64, 128, 256, 512], scales=(4, 2, 1, 1),
              neighbourhood=3, norm_cfg=norm_cfg))
