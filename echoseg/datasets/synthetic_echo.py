"""Old import path of the synthetic echo generator, now :mod:`echoseg.datasets.synthetic`.

Kept only for the scripts under ``tools/analysis/`` that still import it; import from
``echoseg.datasets.synthetic`` instead.
"""
from .synthetic import (DIFFICULTY_LEVELS, GEOMETRIES, RAW_CLASSES, STYLES,  # noqa: F401
                        SyntheticEchoGenerator, SyntheticVideoPlan, cardiac_contraction,
                        difficulty_knobs, resolve_difficulty)

__all__ = [
    'DIFFICULTY_LEVELS', 'RAW_CLASSES', 'resolve_difficulty', 'difficulty_knobs',
    'cardiac_contraction', 'SyntheticVideoPlan', 'SyntheticEchoGenerator', 'STYLES',
    'GEOMETRIES'
]
