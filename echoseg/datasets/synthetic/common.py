"""Names, seeds and small helpers shared by the synthetic generator's modules."""
from typing import Dict, Sequence, Tuple

import numpy as np

__all__ = ['RAW_CLASSES', 'STYLES', 'GEOMETRIES']

#: names of the raw labels the generator writes (index = label value)
RAW_CLASSES = ('background', 'LV', 'myocardium', 'other_chambers')
#: looks: fitted to real apical views (default), or the first, schematic one
STYLES = ('realistic', 'classic')
#: sector layouts of the realistic style: EchoNet-Dynamic frames or CAMUS images
GEOMETRIES = ('echonet', 'camus')

NT = 512  # samples of the width-profile look-up tables along the long axis
# every part of a video draws from its own child of np.random.SeedSequence(seed)
SEED_PARTS = ('frames', 'heart', 'look', 'timing', 'speckle', 'noise')


def check_choice(name: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ValueError(f'{name} must be one of {list(choices)}, got {value!r}')


def smooth01(x: np.ndarray) -> np.ndarray:
    """Raised-cosine step: 0 for x <= 0, 1 for x >= 1, C1-smooth in between."""
    x = np.clip(x, 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * x)


def seed_tuple(seed) -> Tuple[int, ...]:
    """An int or a sequence of ints as a tuple of ints."""
    return tuple([int(seed)] if np.isscalar(seed) else [int(v) for v in seed])


def seed_children(seed) -> Dict[str, np.random.SeedSequence]:
    """One independent seed sequence per part of a video (:data:`SEED_PARTS`)."""
    entropy = list(seed_tuple(seed))
    if any(v < 0 for v in entropy):
        raise ValueError(f'seeds must be non-negative integers, got {seed!r}')
    return dict(zip(SEED_PARTS, np.random.SeedSequence(entropy).spawn(len(SEED_PARTS))))


def part_rng(seed, part: str) -> np.random.Generator:
    """The random generator of one part (``'heart'``, ``'look'``, ...) of a video."""
    return np.random.default_rng(seed_children(seed)[part])
