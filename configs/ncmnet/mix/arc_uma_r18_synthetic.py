# Mixing: EchoForge's ARC neck before NCM-Net's UMA head. configs/ncmnet/r18_synthetic.py
# with NCM replaced by ARC recalibrating the encoder output (level 3: 2 anchors, K = 16,
# 64-wide bottleneck); UMA (with its deformable pixel decoder) reads all four levels as
# before (its stride-16 memory is now the plain backbone level 2).
_base_ = ['../r18_synthetic.py']
model = dict(
    neck=dict(_delete_=True, type='ARCNeck', in_channels=[64, 128, 256, 512], in_index=-1,
              num_anchors=2, k=16, patch_size=2, uncertainty_interval=(0.4, 0.6),
              num_heads=4, embed_dims=64))
