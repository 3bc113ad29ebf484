from .flame_rise_hook import FlameRiseHook
from .plain_checkpoint_hook import PlainCheckpointHook

__all__ = ['FlameRiseHook', 'PlainCheckpointHook']
