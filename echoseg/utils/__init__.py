from .checkpoint import (CheckpointError, load_local_checkpoint, message_hub_from_plain,
                         message_hub_to_plain, to_plain)

__all__ = ['CheckpointError', 'load_local_checkpoint', 'message_hub_to_plain',
           'message_hub_from_plain', 'to_plain']
