# echoseg's earlier NCM-Net default, kept reachable (the synthetic row of
# docs/methods/ncmnet.md measured before the fork-fidelity change): ../r18_synthetic.py
# with the pre-norm NCM layer (GELU FFN, one residual per step) and the cross-scale step,
# an FPN instead of the deformable pixel decoder, GELU FFNs in the decoder, and the
# cross-frame boundary loss with its earlier weighted-mean denominator.
_base_ = ['../r18_synthetic.py']
model = dict(
    neck=dict(layer_form='prenorm', cross_scale_index=(1, 3)),
    decode_head=dict(
        pixel_decoder=None, ffn_activation='gelu',
        loss_temporal=dict(type='CrossFrameBoundaryLoss', min_tolerance=1.0,
                           motion_factor=2.0, denominator='boundary_mass',
                           loss_weight=1.0)))
