# PKEcho-Net with ResNet-18 (Table 1, first "Ours" row) on CAMUS-Semi: r50_camus.py with
# the encoder's channels 64-512; everything else as the paper's recipe.
_base_ = ['./r50_camus.py']
model = dict(
    backbone=dict(depth=18),
    neck=dict(in_channels=[64, 128, 256, 512]),
    decode_head=dict(in_channels=512))
