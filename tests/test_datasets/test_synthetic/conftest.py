import pytest

from echoseg.datasets.synthetic import SyntheticEchoGenerator

SEEDS = [(0, 0), (0, 1), (7, 3), (11, 5)]


@pytest.fixture(scope='session')
def medium():
    """Four dataset videos at 128x128, medium difficulty (shared: they take seconds)."""
    gen = SyntheticEchoGenerator(128, difficulty='medium')
    return [gen.generate(s) for s in SEEDS]
