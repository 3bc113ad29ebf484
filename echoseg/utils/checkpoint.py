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
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise CheckpointError(f'{filename}: not a readable PyTorch checkpoint (corrupt, '
                              f'truncated or another format): {exc}') from None


def register_safe_loader() -> None:
    """Make MMEngine's loader for local paths (prefix '') the safe one."""
    CheckpointLoader.register_scheme(prefixes='', force=True)(load_local_checkpoint)


register_safe_loader()
register_atomic_local_backend()  # every checkpoint MMEngine writes is written atomically
