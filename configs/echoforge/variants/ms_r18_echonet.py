# EchoForge-MS (docs/methods/echoforge.md "Variant EchoForge-MS") at the CPU size of
# configs/echoforge/r18_echonet.py: same data, schedule, encoder, references and FlameRise;
# TSF on levels 1-3 (resized to stride 8), a 64-wide ARC bottleneck, per-class prototypes
# with a joint self-attention and a static classifier, reliability-weighted pseudo-labels.
_base_ = ['../r18_echonet.py']
model = dict(
    neck=dict(embed_dims=64),
    decode_head=dict(in_channels=[128, 256, 512], in_index=[1, 2, 3],
                     input_transform='resize_concat', pixel_decoder=None,
                     cpr_features='fused', num_layers=2, prototypes='per_class',
                     self_attention='joint', static_classifier=True, dropout_ratio=0.1),
    pseudo_labeler=dict(fusion='reliability', loss_decode=None, memory_resolution=64))
