"""Per-video memory that temporal modules carry across inference windows.

A video longer than the model's clip length is segmented window by window
(:class:`echoseg.apis.VideoPredictor`). A temporal module restarts at every window unless
it keeps what it needs of the earlier frames; this object is where it keeps it, in the way
Cutie's ``InferenceCore`` and SAM2's video predictor keep one explicit state per video.

The predictor creates one per video (``EchoVideoSegmentor.init_video_memory()``), sets
:attr:`window_start` (the video index of the window's first frame) before every window and
hands it to ``predict_probabilities(inputs, memory=...)``; the segmentor puts it in
``clip.extras['video_memory']``. A module stores its own entries under a key of its choice
(:meth:`get` / :meth:`put`) and is responsible for keeping them bounded (constant memory
over a video of any length). Windows must be fed in video order without overlap: a module
may assume that the frames of a window follow the frames it has already stored.
"""
from typing import Any, Dict, List, Optional


class VideoMemory:
    """Per-video state of the temporal modules of one model (batch of one video).

    Attributes:
        window_start: video index of the first frame of the current window.
        references: module key -> {video frame index: the video frames whose masks were the
            references of that frame}; modules that use references record the latest
            window's here (for inspection and tests; bounded to one window).
    """

    def __init__(self) -> None:
        self.window_start = 0
        self._entries: Dict[str, Any] = {}
        self.references: Dict[str, Dict[int, List[int]]] = {}

    def get(self, key: str, default: Optional[Any] = None) -> Any:
        return self._entries.get(key, default)

    def put(self, key: str, value: Any) -> None:
        self._entries[key] = value

    def record_references(self, key: str, refs: Dict[int, List[int]]) -> None:
        self.references[key] = {int(k): [int(r) for r in v] for k, v in refs.items()}

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def __repr__(self) -> str:
        return (f'VideoMemory(window_start={self.window_start}, '
                f'keys={sorted(self._entries)})')


def video_memory_of(clip) -> Optional[VideoMemory]:
    """The clip's per-video memory (``clip.extras['video_memory']``), or None."""
    memory = clip.extras.get('video_memory') if clip is not None else None
    if memory is not None and clip.batch_size != 1:
        raise ValueError('a per-video memory holds one video: the batch must be 1 clip, '
                         f'got {clip.batch_size}')
    return memory
