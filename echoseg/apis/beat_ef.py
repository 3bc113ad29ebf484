"""Moved to :mod:`echoseg.evaluation.functional.beat_ef`; this name stays for old imports."""
from echoseg.evaluation.functional.beat_ef import smoothed_beats, smoothing_window

__all__ = ['smoothed_beats', 'smoothing_window']
