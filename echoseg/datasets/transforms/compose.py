"""One clip loaded outside a dataset's pipeline: the loading transforms a config's
pipelines start with, run on one data info (analyses that read a video's labelled frames
the way training sees them)."""
from .clip_sampling import SampleClipFrames
from .geometric import ResizeClip
from .loading import LoadEchoAnnotations, LoadEchoVideo


def load_clip(info: dict, num_frames: int = 10, scale=None) -> dict:
    """Run a dataset's data info through the clip loading transforms (and an optional
    ResizeClip keeping the original masks), as the pipelines do."""
    results = dict(info)
    for t in (LoadEchoVideo(), LoadEchoAnnotations(), SampleClipFrames(num_frames=num_frames)):
        results = t(results)
    if scale is not None:
        results = ResizeClip(scale=scale, keep_ori_masks=True)(results)
    return results
