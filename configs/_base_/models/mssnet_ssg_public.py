# MSSNet's public SSG model (SSG.py of SSS666-klk/MSSNet@aa8b95b, class SSG) as echoseg
# modules: the conv encoder (SSGEncoder, stride 8, 256 channels) -> SAP + TAP attention
# over windows of 3 frames (SAPTAPNeck, 32 wide, alpha = 0.5) -> the transposed-conv
# decoder (SSGDecoderHead) to one sigmoid channel at full resolution. Checked equal to the
# public class at its own settings (T = 10, 1 channel, 256 x 256):
#
#   python tools/analysis/check_against_reference.py mssnet /tmp/ref24/mssnet
#
# The modules also take other clip lengths and sizes (docs/methods/mssnet.md). No loss or
# training recipe is public: BCE + Dice on the sigmoid channel (ours, as mssnet_r18.py);
# inputs scaled to [0, 1] (ours).
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(type='EchoDataPreprocessor', mean=0.0, std=255.0, in_channels=1)
model = dict(
    type='EchoVideoSegmentor',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(type='SSGEncoder', in_channels=1, channels=(32, 64, 128, 256),
                  out_indices=(3, ), norm_cfg=norm_cfg),
    neck=dict(type='SAPTAPNeck', in_channels=256, embed_dims=32, in_index=-1,
              grid_size=(32, 32), num_heads=8, mlp_ratio=2.0, alpha=0.5),
    decode_head=dict(
        type='SSGDecoderHead',
        in_channels=32,
        in_index=-1,
        neck_channels=256,
        up_channels=(64, 16),
        channels=16,
        dropout_ratio=0.0,
        num_classes=2,
        out_channels=1,
        threshold=0.5,
        align_corners=False,
        loss_decode=[
            dict(type='BCEDiceLoss', bce_weight=1.0, dice_weight=1.0),
        ]),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
