"""The process's random number generators as plain data, for exact resume.

MMEngine's resume re-seeds the generators from the configured seed, so a run resumed at
iteration k draws different dropout masks and (with ``num_workers=0``) different
augmentations than the uninterrupted run did after iteration k. echoseg stores the state of
Python's ``random``, NumPy's global generator, torch's CPU generator (and CUDA's, when
present) in every checkpoint (``RandomStateHook``) as tensors and numbers, so the file still
loads with ``weights_only=True``, and the resumable train loops put them back right where
the uninterrupted run was.
"""
import random
from typing import Dict

import numpy as np
import torch


def capture_random_state() -> Dict:
    """The current state of every global generator, as plain data."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    version, py_state, gauss = random.getstate()
    state = dict(
        torch=torch.get_rng_state().clone(),
        numpy=dict(name=str(name), keys=torch.from_numpy(np.asarray(keys, np.int64)),
                   pos=int(pos), has_gauss=int(has_gauss), cached=float(cached)),
        python=dict(version=int(version), state=torch.tensor(py_state, dtype=torch.int64),
                    gauss=gauss))
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = [s.clone() for s in torch.cuda.get_rng_state_all()]
    return state


def restore_random_state(state: Dict) -> None:
    """Put back a state from :func:`capture_random_state`."""
    torch.set_rng_state(state['torch'])
    npy = state['numpy']
    np.random.set_state((npy['name'], npy['keys'].numpy().astype(np.uint32), npy['pos'],
                         npy['has_gauss'], npy['cached']))
    py = state['python']
    random.setstate((py['version'], tuple(int(v) for v in py['state'].tolist()),
                     py['gauss']))
    if state.get('cuda') is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


def random_states_equal(a: Dict, b: Dict) -> bool:
    """Whether two states from :func:`capture_random_state` (or read back from
    checkpoints) are the same."""
    def same(x, y):
        if isinstance(x, dict) and isinstance(y, dict):
            return x.keys() == y.keys() and all(same(x[k], y[k]) for k in x)
        if isinstance(x, (list, tuple)) and isinstance(y, (list, tuple)):
            return len(x) == len(y) and all(same(u, v) for u, v in zip(x, y))
        if isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor):
            return x.dtype == y.dtype and torch.equal(x, y)
        return type(x) is type(y) and x == y
    return same(a, b)
