"""Inference on whole videos: model loading, the per-video predictor, clinical read-outs.

- :func:`init_model`: config + checkpoint -> model in eval mode (safe checkpoint loading).
- :class:`VideoPredictor`: per-video inference over overlapping windows of the model's
  clip length: ``predict`` on an array or a file, or ``state = start()``,
  ``step(state, frames)``, ``finish(state)`` with an explicit :class:`VideoState`.
- :class:`VideoResult`: masks, LV areas and volumes, ED/ES frames, beats and EF, with JSON,
  CSV, overlay-video, mask-file and curve-plot writers.
- :func:`detect_cardiac_cycle`: ED/ES and beats of any volume or area curve;
  :func:`beats_from_curves`: those beats with their EF and plausibility flags (both from
  :mod:`echoseg.evaluation.functional.cardiac_cycle`).
- :class:`CompressedMasks`: a video's masks zlib-compressed frame by frame (flat memory).
- :mod:`echoseg.apis.export`: a result's files as ``tools/infer.py`` writes them
  (``write_outputs`` -> ``{kind: path}``); the command line is :mod:`echoseg.cli.infer`.

See ``docs/inference.md``.
"""
from echoseg.evaluation.functional.cardiac_cycle import (CardiacCycle, beats_from_curves,
                                                         detect_cardiac_cycle, estimate_period)
from .compressed_masks import CompressedMasks
from .inference import (VideoPredictor, VideoState, clip_settings, inference_video,
                        init_model, load_video, window_starts)
from .video_result import VideoResult

__all__ = [
    'init_model', 'VideoPredictor', 'VideoState', 'VideoResult', 'inference_video',
    'load_video', 'clip_settings', 'window_starts', 'detect_cardiac_cycle', 'estimate_period',
    'CardiacCycle', 'beats_from_curves', 'CompressedMasks'
]
