"""``PlainCheckpointHook``: checkpoints as plain data, message hub rebuilt on resume."""
from mmengine.hooks import Hook

from echoseg.registry import HOOKS
from echoseg.utils.checkpoint import message_hub_from_plain, to_plain


@HOOKS.register_module()
class PlainCheckpointHook(Hook):
    """Converts the checkpoint MMEngine is about to save into plain data, and back.

    ``before_save_checkpoint`` rewrites the whole dict in place (message hub history buffers
    as tensors, numpy as tensors, unknown objects dropped) so the file loads with
    ``weights_only=True``; ``after_load_checkpoint`` rebuilds the history buffers before
    ``Runner.resume`` hands them to the message hub. tools/train.py adds this hook to every
    run.
    """

    priority = 'VERY_LOW'  # after every other hook has added its entries

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        plain = to_plain(checkpoint)
        checkpoint.clear()
        checkpoint.update(plain)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if isinstance(checkpoint.get('message_hub'), dict):
            checkpoint['message_hub'] = message_hub_from_plain(checkpoint['message_hub'])
