from .bce_dice_loss import BCEDiceLoss
from .boundary_loss import BoundaryLoss
from .cross_frame_boundary_loss import CrossFrameBoundaryLoss
from .soft_area_loss import SoftAreaLoss

__all__ = ['BCEDiceLoss', 'BoundaryLoss', 'CrossFrameBoundaryLoss', 'SoftAreaLoss']
