"""RandomStateHook: validation and testing inside a training run leave the training's
generators where they were, and a checkpoint saved meanwhile stores the training's state
(the kill-and-resume runs are in tests/test_engine/test_loops/)."""
import random

import numpy as np
import pytest
import torch

from echoseg.engine.hooks import RandomStateHook
from echoseg.utils.checkpoint import to_plain
from echoseg.utils.random_state import restore_random_state


def _draw():
    """What training draws: a few numbers of every global generator."""
    return (random.random(), float(np.random.rand()), np.random.randn(), float(torch.rand(1)),
            float(torch.randn(1)))


def _validate():
    """What a validation draws: a data-loader iterator's base seed (torch's generator),
    more numbers from every generator."""
    iter(torch.utils.data.DataLoader(list(range(4)), num_workers=0))
    random.random(), np.random.rand(3), np.random.randn(), torch.rand(5)


def _seed():
    random.seed(4), np.random.seed(5), torch.manual_seed(6)


@pytest.mark.parametrize('phase', ['val', 'test'])
def test_validation_leaves_training_streams_alone(phase):
    _seed()
    _draw()
    expected = [_draw() for _ in range(3)]  # the training without validation

    _seed()
    _draw()
    _validate()
    moved = [_draw() for _ in range(3)]
    # without the hook, validation moves every generator (Python's, NumPy's, torch's
    # uniform draws all differ)
    assert all(a[i] != b[i] for a, b in zip(moved, expected) for i in (0, 1, 3))

    _seed()
    _draw()
    hook = RandomStateHook()
    getattr(hook, f'before_{phase}')(None)
    _validate()
    getattr(hook, f'after_{phase}')(None)
    assert [_draw() for _ in range(3)] == expected
    assert hook.held_state is None


def test_checkpoint_saved_during_validation_holds_training_state(tmp_path):
    _seed()
    _draw()
    expected = [_draw() for _ in range(3)]

    _seed()
    _draw()
    hook = RandomStateHook()
    hook.before_val(None)
    _validate()
    checkpoint = {}
    hook.before_save_checkpoint(None, checkpoint)  # save_best in after_val_epoch
    hook.after_val(None)
    torch.save(to_plain(checkpoint), tmp_path / 'best.pth')
    _validate()  # anywhere else
    restore_random_state(torch.load(tmp_path / 'best.pth', weights_only=True)['random_state'])
    assert [_draw() for _ in range(3)] == expected


def test_checkpoint_saved_during_training_holds_current_state():
    _seed()
    _draw()
    hook = RandomStateHook()
    checkpoint = {}
    hook.before_save_checkpoint(None, checkpoint)
    expected = [_draw() for _ in range(3)]
    _validate()
    restore_random_state(checkpoint['random_state'])
    assert [_draw() for _ in range(3)] == expected
