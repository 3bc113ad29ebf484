# PKEcho-Net with ResNet-18 (Table 1, first "Ours" row) on CAMUS-Semi: r50_camus.py with
# the encoder's channels 64-512; everything else as the paper's recipe, but from random
# weights (r50_camus.py's ImageNet ResNet-50 file does not fit; torchvision's ResNet-18:
# --cfg-options model.pretrained=https://download.pytorch.org/models/resnet18-f37072fd.pth).
_base_ = ['./r50_camus.py']
model = dict(
    backbone=dict(depth=18, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512]),
    decode_head=dict(in_channels=512))
