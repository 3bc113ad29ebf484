from .overlay import clip_overlay_grid, overlay_masks

__all__ = ['overlay_masks', 'clip_overlay_grid']
