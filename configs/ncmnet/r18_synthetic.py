# NCM-Net sized for a CPU: ResNet-18 + NCM + UMA on the built-in synthetic clips
# (128 x 128, 10 frames, ED and ES labelled; docs/synthetic_data.md) with the short
# synthetic schedule of configs/echoforge/r18_synthetic.py and configs/pkechonet/
# r18_synthetic.py (AdamW 1e-3, 6 epochs, batch 2), so the methods compare at the same
# budget:
#
#   python tools/train.py configs/ncmnet/r18_synthetic.py
#
# The model of r50_camus.py with ResNet-18 (channels 64-512), the last stage dilated
# (output stride 16, as the other r18_synthetic configs: NCM's level 2 is 16 x 16), widths
# scaled with the encoder (NCM FFN 256 = its 256 channels as the authors' 1024 for 1024;
# UMA 64 wide, 4 heads, FFN 512, still 9 layers; its deformable pixel decoder 64 wide, FFN
# 256, still 6 layers; the cross-scale variant's step 64 wide), gray normalisation and
# trainable batch-norm (no ImageNet weights here, unlike the authors' frozen affine
# parameters).
_base_ = [
    '../_base_/models/ncmnet_r50.py', '../_base_/datasets/synthetic.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_synthetic.py'
]
model = dict(
    data_preprocessor=dict(mean=127.5, std=127.5),
    backbone=dict(depth=18, strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2),
                  norm_cfg=dict(type='BN', requires_grad=True)),
    neck=dict(in_channels=[64, 128, 256, 512], ffn_channels=256, cross_scale_channels=64),
    decode_head=dict(in_channels=[64, 128, 256, 512], channels=64, num_heads=4,
                     ffn_channels=512,
                     pixel_decoder=dict(encoder=dict(layer_cfg=dict(
                         ffn_cfg=dict(feedforward_channels=256))))))
custom_hooks = [dict(type='PlainCheckpointHook')]
