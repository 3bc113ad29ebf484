# Mixing: EchoForge's ARC neck before PKEcho-Net's KSS head. ARC takes the neck slot, so
# there is no MRP: KSS's stage masks are resized bilinearly to the input when the loss is
# computed and at inference (mmseg's convention). configs/pkechonet/r18_synthetic.py
# otherwise; ARC recalibrates the encoder output (2 anchors, K = 16, 64-wide bottleneck).
_base_ = ['../r18_synthetic.py']
model = dict(
    neck=dict(_delete_=True, type='ARCNeck', in_channels=[64, 128, 256, 512], in_index=-1,
              num_anchors=2, k=16, patch_size=2, uncertainty_interval=(0.4, 0.6),
              num_heads=4, embed_dims=64))
