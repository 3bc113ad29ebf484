# EchoForge-MS, echoseg's earlier design kept as a named variant beside the paper-faithful
# model (docs/methods/echoforge.md, "Variant EchoForge-MS"): TSF reads three encoder levels
# (strides 8, 16 and ARC's recalibrated stride-32 map, resized to stride 8 and concatenated),
# ARC's feature fusion runs in a 256-channel bottleneck, one prototype per class with a
# joint self-attention over [Q; P] and a static classifier beside them, and the pseudo-
# labels are a reliability-weighted vote of the model, CPR and the previous epoch's labels.
# TSF's references follow the same train/test-consistent scheme as the faithful model.
_base_ = ['./echoforge_r50.py']
model = dict(
    neck=dict(embed_dims=256),
    decode_head=dict(
        in_channels=[512, 1024, 2048],
        in_index=[1, 2, 3],
        input_transform='resize_concat',
        channels=256,
        pixel_decoder=None,
        cpr_features='fused',
        num_layers=2,
        prototypes='per_class',
        self_attention='joint',
        static_classifier=True,
        dropout_ratio=0.1),
    pseudo_labeler=dict(
        decoder_channels=256,
        fusion='reliability',
        loss_decode=None,
        memory_resolution=64))
