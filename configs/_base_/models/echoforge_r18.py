# The paper-faithful EchoForge (echoforge_r50.py) at ResNet-18 size for CPU configs:
# ResNet-18 V1c at output stride 16 (the last stage dilated), ARC at the full 512 channels,
# TSF D = 64 with 4 heads, CPR D = 32 on TSF's fused features, gray normalisation (no
# ImageNet weights). Used by configs/echoforge/r18_synthetic.py and r18_echonet.py.
_base_ = ['./echoforge_r50.py']
model = dict(
    data_preprocessor=dict(mean=127.5, std=127.5),
    backbone=dict(depth=18, strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2)),
    neck=dict(in_channels=[64, 128, 256, 512], num_heads=4),
    decode_head=dict(in_channels=512, channels=64, num_heads=4, num_queries=8),
    pseudo_labeler=dict(in_channels=512, decoder_channels=64, channels=32))
