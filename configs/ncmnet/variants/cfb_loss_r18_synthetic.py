# NCM-Net variant (ours) on the synthetic clips: ../r18_synthetic.py with the cross-frame
# boundary loss of cfb_loss_r50_camus.py, for the same-budget comparison in
# docs/methods/ncmnet.md.
_base_ = ['../r18_synthetic.py']
model = dict(decode_head=dict(loss_temporal=dict(
    type='CrossFrameBoundaryLoss', min_tolerance=1.0, motion_factor=2.0,
    denominator='fixed', loss_weight=1.0)))
