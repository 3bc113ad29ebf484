from .checkpoint import (CheckpointError, load_local_checkpoint, message_hub_from_plain,
                         message_hub_to_plain, to_plain)
from .pretrained import PretrainedWeightsError, prepare_pretrained  # URL / open-mmlab loader

__all__ = ['CheckpointError', 'PretrainedWeightsError', 'prepare_pretrained',
           'load_local_checkpoint', 'message_hub_to_plain',
           'message_hub_from_plain', 'to_plain']
