# The paper-faithful EchoForge (echoforge_r50.py) at ResNet-18 size for CPU configs:
# ResNet-18 V1c at output stride 16 (the last stage dilated), ARC at the full 512 channels,
# the pixel decoder and TSF at D = 64 with 4 heads (the decoder's FFN 4 x D, as 1024 for
# D = 256; its level strides follow the dilated encoder), CPR D = 32 on the mask features,
# gray normalisation (no ImageNet weights). Used by configs/echoforge/r18_synthetic.py and
# r18_echonet.py.
_base_ = ['./echoforge_r50.py']
model = dict(
    data_preprocessor=dict(mean=127.5, std=127.5),
    backbone=dict(depth=18, strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2)),
    neck=dict(in_channels=[64, 128, 256, 512], num_heads=4),
    decode_head=dict(
        in_channels=[64, 128, 256, 512], channels=64, num_heads=4, num_queries=8,
        pixel_decoder=dict(
            strides=[4, 8, 16, 16],
            encoder=dict(layer_cfg=dict(self_attn_cfg=dict(num_heads=4),
                                        ffn_cfg=dict(feedforward_channels=256))))),
    pseudo_labeler=dict(in_channels=512, decoder_channels=64, channels=32))
