"""``EchoRunner``: MMEngine's runner, with the initial weights broadcast fixed for extra state."""
import torch
from mmengine.dist import broadcast
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from echoseg.registry import RUNNERS


@RUNNERS.register_module()
class EchoRunner(Runner):
    """``mmengine.runner.Runner`` whose start of a distributed run accepts any module state.

    After ``init_weights`` MMEngine 0.10.7 broadcasts every entry of the model's state dict
    from rank 0 and fails ("'dict' object has no attribute 'contiguous'") on a non-tensor
    entry, such as the extra state (``get_extra_state``) a module may keep. Here only
    tensors are broadcast. (echoseg's pseudo-label memories are tensors under
    ``memory.*``; they are empty at start and kept equal in every process by
    ``PseudoLabelMemorySyncHook``.) The echoseg tools build this runner
    (``echoseg.utils.config.build_runner``).
    """

    def _init_model_weights(self) -> None:
        model = self.model.module if is_model_wrapper(self.model) else self.model
        if hasattr(model, 'init_weights'):
            model.init_weights()
            for value in model.state_dict().values():
                if isinstance(value, torch.Tensor):
                    broadcast(value)
