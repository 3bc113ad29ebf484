"""Checkpoints that hold only plain data, and a loader that never unpickles code.

MMEngine 0.10.7 pickles its message hub's ``HistoryBuffer`` objects into checkpoints; their
statistics methods travel as function references (``getattr``), which ``weights_only=True``
rightly refuses and which must not be allow-listed. echoseg therefore writes the message hub
as plain data (:func:`message_hub_to_plain`), rebuilds it on load
(:func:`message_hub_from_plain`), and replaces MMEngine's local-file checkpoint loader with
:func:`load_local_checkpoint`, which always passes ``weights_only=True`` and turns every
failure into a :class:`CheckpointError` naming the file.
"""
import logging
import os.path as osp
import pickle
from collections import OrderedDict
from typing import Any

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, print_log
from mmengine.runner.checkpoint import CheckpointLoader

from .atomic_io import register_atomic_local_backend

_BUFFER_TAG = '__echoseg_history_buffer__'


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be loaded safely; the message names the file."""


def to_plain(obj: Any, where: str = 'checkpoint') -> Any:
    """Convert ``obj`` to data ``torch.load(weights_only=True)`` accepts.

    numpy arrays become tensors, numpy scalars Python numbers, sets lists; containers are
    walked. Anything else is dropped with a warning (never pickled as an object).
    """
    if isinstance(obj, np.generic):  # first: np.float64 is also a Python float
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str, bytes, torch.Tensor,
                                       torch.dtype, torch.device, torch.Size)):
        return obj
    if isinstance(obj, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(obj))
    if isinstance(obj, HistoryBuffer):
        log, count = obj.data
        return {_BUFFER_TAG: True, 'log': torch.from_numpy(np.asarray(log, dtype=np.float64)),
                'count': torch.from_numpy(np.asarray(count, dtype=np.float64)),
                'max_length': int(obj.max_length)}
    if isinstance(obj, OrderedDict):
        return OrderedDict((k, to_plain(v, f'{where}.{k}')) for k, v in obj.items())
    if isinstance(obj, dict):
        return {k: to_plain(v, f'{where}.{k}') for k, v in obj.items()}
    if isinstance(obj, tuple):
        return tuple(to_plain(v, where) for v in obj)
    if isinstance(obj, (list, set, frozenset)):
        return [to_plain(v, where) for v in obj]
    print_log(f'echoseg: dropping {where} ({type(obj).__name__}) from the checkpoint: '
              'only plain data is saved', logger='current', level=logging.WARNING)
    return None


def message_hub_to_plain(state: dict) -> dict:
    """``MessageHub.state_dict()`` -> plain data (history buffers as tensors)."""
    return to_plain(state, 'message_hub')


def message_hub_from_plain(state: dict) -> dict:
    """Inverse of :func:`message_hub_to_plain`: rebuild ``HistoryBuffer`` objects."""
    scalars = {}
    for key, value in state.get('log_scalars', {}).items():
        if isinstance(value, dict) and value.get(_BUFFER_TAG):
            scalars[key] = HistoryBuffer(value['log'].numpy().tolist(),
                                         value['count'].numpy().tolist(),
                                         int(value['max_length']))
        else:
            scalars[key] = value
    return dict(state, log_scalars=scalars)


def load_local_checkpoint(filename: str, map_location=None) -> Any:
    """Load a local checkpoint with ``weights_only=True``; clear errors naming the file."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise CheckpointError(f'{filename}: checkpoint file not found')
    try:
        return torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(
            f'{filename}: refused to load: the checkpoint holds Python objects other than '
            f'plain data (tensors, arrays, numbers, strings, containers), and echoseg only '
            f'loads with weights_only=True. Checkpoints written by echoseg never do; a file '
            f'that does may run code when unpickled. Details: {exc}') from None
    except (RuntimeError, EOFError, OSError, ValueError, LookupError) as exc:
        # LookupError: torch's legacy reader on bytes that are no checkpoint at all (a
        # text file raises KeyError(<magic>) or IndexError('pop from empty list'))
        raise CheckpointError(f'{filename}: not a readable PyTorch checkpoint (corrupt, '
                              f'truncated or another format): {exc}') from None


def register_safe_loader() -> None:
    """Make MMEngine's loader for local paths (prefix '') the safe one."""
    CheckpointLoader.register_scheme(prefixes='', force=True)(load_local_checkpoint)


register_safe_loader()
register_atomic_local_backend()  # every checkpoint MMEngine writes is written atomically


def _grown_state(key: str) -> bool:
    return ('.' + key).find('.memory.') >= 0


def _examples(keys, limit: int = 3) -> str:
    keys = list(keys)
    return ', '.join(keys[:limit]) + (' ...' if len(keys) > limit else '')


def check_checkpoint_fits(model, checkpoint: dict, filename: str) -> None:
    """Raise :class:`CheckpointError` when ``checkpoint`` (a dict with ``state_dict``, or a
    state dict) is not a checkpoint of ``model``'s architecture.

    MMEngine loads ``load_from`` and ``--resume`` checkpoints with ``strict=False``, so the
    weights of another config would load partly, with a warning in the log, and the run
    would evaluate or continue a half-initialised model. The tools check first.
    """
    state = checkpoint.get('state_dict', checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict):
        raise CheckpointError(f'{filename}: no state_dict in the checkpoint')
    state = {k[len('module.'):] if k.startswith('module.') else k: v
             for k, v in state.items()}
    # a pseudo-labeler's memory (``<module>.memory.*``) is state whose size grows with
    # training; it is not part of the architecture
    state = {k: v for k, v in state.items() if not _grown_state(k)}
    own = {k: v for k, v in model.state_dict().items() if not _grown_state(k)}
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [f'{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}' for k in own
              if k in state and isinstance(own[k], torch.Tensor)
              and isinstance(state[k], torch.Tensor) and state[k].shape != own[k].shape]
    if missing or unexpected or shapes:
        problems = []
        if missing:
            problems.append(f'{len(missing)} weight(s) of the model missing ({_examples(missing)})')
        if unexpected:
            problems.append(f'{len(unexpected)} weight(s) the model does not have '
                            f'({_examples(unexpected)})')
        if shapes:
            problems.append(f'{len(shapes)} of another shape (checkpoint vs model: '
                            f'{_examples(shapes, 2)})')
        raise CheckpointError(f'{filename}: not a checkpoint of this config\'s model: '
                              f'{"; ".join(problems)}. Was it trained with another config?')
