# The real-time CPU model (docs/benchmarks.md): a narrow MobileNetV2 (mmseg's, width 0.5,
# output stride 32) and CausalTemporalHead (LR-ASPP-like two-level head whose coarse level
# is mixed with the 2 previous frames by a causal depthwise temporal convolution). Data as
# the FCN-R18 synthetic baseline (128 synthetic videos rendered at EchoNet-Dynamic's
# 112 x 112, appearance augmentations, the short synthetic schedule), but the network runs
# at 112 x 112 and trains on 10-frame clips from ED to ES (ED and ES labelled): the head is
# temporal. It keeps a per-video memory, so the whole-video API runs it on non-overlapping
# windows and computes every frame once.
#
#   python tools/train.py configs/realtime/mobilenetv2_causal_synthetic.py
#   python tools/infer.py configs/realtime/mobilenetv2_causal_synthetic.py CKPT video.avi --out-dir out
_base_ = ['../baselines/fcn_r18_synthetic.py']
image_size = (112, 112)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    _delete_=True,
    type='EchoVideoSegmentor',
    data_preprocessor=dict(type='EchoDataPreprocessor', mean=127.5, std=127.5,
                           in_channels=3),
    backbone=dict(
        type='MobileNetV2',
        widen_factor=0.5,
        # stages 2 and 6: 16 channels at stride 8 and 160 at stride 32 (width 0.5)
        strides=(1, 2, 2, 2, 1, 2, 1),
        dilations=(1, 1, 1, 1, 1, 1, 1),
        out_indices=(2, 6),
        norm_cfg=norm_cfg),
    decode_head=dict(
        type='CausalTemporalHead',
        in_channels=[16, 160],
        in_index=[0, 1],
        channels=48,
        kernel_size=3,
        dropout_ratio=0.0,
        num_classes=2,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='BCEDiceLoss', bce_weight=1.0, dice_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

# the baseline's pipelines with 10-frame training clips and a 112 x 112 network input
_t = {{_base_.num_frames}}
train_pipeline = [
    dict(s, num_frames=_t) if s['type'] == 'SampleClipFrames' else
    dict(s, scale=image_size) if s['type'] == 'ResizeClip' else s
    for s in _base_.train_pipeline]
test_pipeline = [dict(s, scale=image_size) if s['type'] == 'ResizeClip' else s
                 for s in _base_.test_pipeline]
train_dataloader = dict(batch_size=4, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
