"""``PseudoLabelMemorySyncHook``: one pseudo-label memory across distributed processes."""
from typing import Dict, List, Sequence, Tuple

import torch.distributed as torch_dist
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from echoseg.registry import HOOKS


@HOOKS.register_module()
class PseudoLabelMemorySyncHook(Hook):
    """Shares what every process writes into the pseudo-labelers' per-frame memories.

    CPR and DOC keep a memory of per-frame probability maps keyed (video, frame)
    (``memory``, with per-entry numbers such as CPR's ``memory_reliability``). Under DDP
    each process only sees its shard of the clips, and the shard changes with the
    sampler's epoch, so a memory kept per process would hold only the frames that process
    happened to see, and a checkpoint (rank 0's state dict) would drop the others'. After
    every training iteration this hook gathers the entries each process wrote in that
    iteration (``all_gather_object``) and applies them everywhere, in rank order (a later
    rank wins a key two processes wrote in the same iteration, e.g. the sampler's padding
    repeating a clip). Every process then holds the memory a single process would have
    built from the same clips, rank 0's checkpoint holds all of it, and a resumed run gives
    it back to every process. Without a process group it does nothing.

    Args:
        attributes: dict attributes of a module that make up its memory (those a module
            lacks are skipped); modules with a dict ``memory`` are found in the model.
    """

    priority = 'LOW'  # before CheckpointHook (VERY_LOW) saves the iteration's state

    def __init__(self, attributes: Sequence[str] = ('memory', 'memory_reliability')) -> None:
        self.attributes = tuple(attributes)
        self._seen: Dict[Tuple[int, str], dict] = {}

    @staticmethod
    def _distributed() -> bool:
        return torch_dist.is_available() and torch_dist.is_initialized() and \
            torch_dist.get_world_size() > 1

    def _tables(self, runner) -> List[Tuple[Tuple[int, str], dict]]:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        owners = [m for m in model.modules() if isinstance(getattr(m, 'memory', None), dict)]
        return [((i, attr), getattr(m, attr)) for i, m in enumerate(owners)
                for attr in self.attributes if isinstance(getattr(m, attr, None), dict)]

    def _remember(self, runner) -> None:
        self._seen = {name: dict(table) for name, table in self._tables(runner)}

    def before_train(self, runner) -> None:
        self._remember(runner)  # after a resume: the memory every process loaded

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        if not self._distributed():
            return
        tables = dict(self._tables(runner))
        written = {}
        for name, table in tables.items():
            seen = self._seen.get(name, {})
            # an entry is written as a new object, so identity tells what changed
            written[name] = [(k, v) for k, v in table.items()
                             if k not in seen or seen[k] is not v]
        gathered = [None] * torch_dist.get_world_size()
        torch_dist.all_gather_object(gathered, written)
        for per_rank in gathered:
            for name, entries in per_rank.items():
                if name in tables:
                    tables[name].update(entries)
        self._remember(runner)
