from .atomic_checkpoint_hook import AtomicCheckpointHook
from .flame_rise_hook import FlameRiseHook
from .plain_checkpoint_hook import PlainCheckpointHook
from .pseudo_label_memory_sync_hook import PseudoLabelMemorySyncHook
from .random_state_hook import RandomStateHook

__all__ = ['AtomicCheckpointHook', 'FlameRiseHook', 'PlainCheckpointHook',
           'PseudoLabelMemorySyncHook', 'RandomStateHook']
