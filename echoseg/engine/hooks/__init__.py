from .atomic_checkpoint_hook import AtomicCheckpointHook
from .flame_rise_hook import FlameRiseHook
from .plain_checkpoint_hook import PlainCheckpointHook
from .random_state_hook import RandomStateHook

__all__ = ['AtomicCheckpointHook', 'FlameRiseHook', 'PlainCheckpointHook', 'RandomStateHook']
