"""Clinical evaluation: pure functions (``functional``), the ``EchoMetric`` and dumps."""
from .functional import *  # noqa: F401,F403
from .metrics import EchoMetric
from .results_io import dump_results, load_results

__all__ = ['EchoMetric', 'dump_results', 'load_results']
