# NCM-Net with the fork's boundary-loss option: ../r50_camus.py plus the term its
# stecho/loss configs add to cross-entropy + Dice (BoundaryLossV2, weight 0.01, on every
# decoder layer's prediction): Kervadec's boundary loss as his reference code writes it
# (mean of p x the distance map, in pixels, no offset), echoseg's BoundaryLoss with
# maps='kervadec', offset=False.
_base_ = ['../r50_camus.py']
model = dict(decode_head=dict(loss_decode=[
    dict(type='BCEDiceLoss', bce_weight=1.0, dice_weight=1.0, smooth=1.0),
    dict(type='BoundaryLoss', maps='kervadec', offset=False, normalize=False,
         loss_weight=0.01, loss_name='loss_boundary'),
]))
