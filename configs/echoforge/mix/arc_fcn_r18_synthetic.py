# Mixing: EchoForge's ARC neck between an mmseg backbone and mmseg's stock FCNHead.
# The per-frame baseline configs/baselines/fcn_r18_synthetic.py (ResNet-18 V1c, output
# stride 8, FCNHead on the last level) with the last level recalibrated by ARC; the
# channels are unchanged, so the head config stays as it is.
_base_ = ['../../baselines/fcn_r18_synthetic.py']
model = dict(
    neck=dict(type='ARCNeck', in_channels=[64, 128, 256, 512], in_index=-1, num_anchors=2,
              k=16, patch_size=2, uncertainty_interval=(0.4, 0.6), num_heads=4,
              embed_dims=64))
