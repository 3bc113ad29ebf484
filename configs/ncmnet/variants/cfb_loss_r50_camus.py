# NCM-Net variant (ours): the authors' model (../r50_camus.py) with echoseg's cross-frame
# boundary loss, designed from the abstract ("cross-frame boundary constraints on the final
# predictions"; no such loss in the fork's NCM config): on the final logits of every frame
# of each clip, labelled or not, boundary mass of a frame farther from its neighbours'
# boundaries than a motion tolerance is penalised; fixed denominator, so extra boundary mass
# never lowers it (docs/methods/ncmnet.md, "Variants"). Weight 1 (ours).
_base_ = ['../r50_camus.py']
model = dict(decode_head=dict(loss_temporal=dict(
    type='CrossFrameBoundaryLoss', min_tolerance=1.0, motion_factor=2.0,
    denominator='fixed', loss_weight=1.0)))
