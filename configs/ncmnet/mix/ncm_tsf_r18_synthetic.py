# Mixing: NCM-Net's NCM neck before EchoForge's TSF head. configs/echoforge/r18_synthetic.py
# (ResNet-18 V1c at output stride 16, TSF on the encoder output, CPR with FlameRise) with
# ARC replaced by NCM as the authors' fork builds it (5 layers of the fork's form, no
# cross-scale step) working on the level TSF reads (level 3, stride 16 here, 512 channels).
_base_ = ['../../echoforge/r18_synthetic.py']
model = dict(
    neck=dict(_delete_=True, type='NCMNeck', in_channels=[64, 128, 256, 512], in_index=3,
              layer_form='fork', cross_scale_index=(), num_layers=5, num_heads=4,
              kernel_size=(7, 7, 7), ffn_channels=512))
