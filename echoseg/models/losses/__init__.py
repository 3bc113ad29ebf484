from .bce_dice_loss import BCEDiceLoss
from .boundary_loss import BoundaryLoss

__all__ = ['BCEDiceLoss', 'BoundaryLoss']
