"""``EchoRunner``: MMEngine's runner, with the initial weights broadcast fixed for extra state."""
import torch
from mmengine.dist import broadcast
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from echoseg.registry import RUNNERS


@RUNNERS.register_module()
class EchoRunner(Runner):
    """``mmengine.runner.Runner`` that distributed runs can start with memory modules.

    After ``init_weights`` MMEngine 0.10.7 broadcasts every entry of the model's state dict
    from rank 0, and fails ("'dict' object has no attribute 'contiguous'") on the extra
    state of modules that keep one (the pseudo-label memories of CPR and DOC,
    ``get_extra_state``). Here only tensors are broadcast; a memory is empty at start and
    then kept equal in every process by ``PseudoLabelMemorySyncHook``. The echoseg tools
    build this runner (``echoseg.cli.build_runner``).
    """

    def _init_model_weights(self) -> None:
        model = self.model.module if is_model_wrapper(self.model) else self.model
        if hasattr(model, 'init_weights'):
            model.init_weights()
            for value in model.state_dict().values():
                if isinstance(value, torch.Tensor):
                    broadcast(value)
