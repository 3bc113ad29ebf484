"""The global generators' state survives a trip through a weights_only checkpoint."""
import random

import numpy as np
import torch

from echoseg.utils.checkpoint import to_plain
from echoseg.utils.random_state import capture_random_state, restore_random_state


def _draw():
    return random.random(), float(np.random.rand()), float(torch.rand(1))


def test_round_trip_through_checkpoint(tmp_path):
    random.seed(1), np.random.seed(2), torch.manual_seed(3)
    _draw()
    np.random.randn()  # leaves a cached Gaussian in NumPy's state
    state = capture_random_state()
    expected = [_draw() for _ in range(3)]
    torch.save(to_plain(dict(random_state=state)), tmp_path / 'c.pth')
    loaded = torch.load(tmp_path / 'c.pth', weights_only=True)['random_state']
    random.seed(9), np.random.seed(9), torch.manual_seed(9)
    assert [_draw() for _ in range(3)] != expected
    restore_random_state(loaded)
    assert [_draw() for _ in range(3)] == expected
