"""VideoMemory: a module's entries under its own key, recorded references, and the one-video
rule of video_memory_of."""
import numpy as np
import pytest
import torch

from echoseg.models.utils import ClipContext, VideoMemory, video_memory_of


def test_entries_by_key():
    memory = VideoMemory()
    assert memory.window_start == 0 and 'head' not in memory
    assert memory.get('head') is None and memory.get('head', 7) == 7
    bank = {0: torch.ones(2)}
    memory.put('head', bank)
    assert 'head' in memory and memory.get('head') is bank
    memory.put('head', {})
    assert memory.get('head') == {}
    memory.put('neck', 1)
    memory.window_start = 20
    assert repr(memory) == "VideoMemory(window_start=20, keys=['head', 'neck'])"


def test_references_are_plain_ints_and_replace_the_last_window():
    memory = VideoMemory()
    memory.record_references('tsf', {np.int64(10): [np.int64(0), torch.tensor(9)]})
    refs = memory.references['tsf']
    assert refs == {10: [0, 9]}
    assert all(type(k) is int and all(type(r) is int for r in v) for k, v in refs.items())
    memory.record_references('tsf', {11: [0]})
    assert memory.references == {'tsf': {11: [0]}}


def _clip(batch_size, **extras):
    return ClipContext(batch_size=batch_size, num_frames=2,
                       labelled=torch.ones(batch_size, 2), extras=extras)


def test_video_memory_of_a_clip():
    memory = VideoMemory()
    assert video_memory_of(None) is None and video_memory_of(_clip(1)) is None
    assert video_memory_of(_clip(1, video_memory=memory)) is memory
    assert video_memory_of(_clip(2)) is None          # no memory: any batch
    with pytest.raises(ValueError, match='one video: the batch must be 1 clip, got 2'):
        video_memory_of(_clip(2, video_memory=memory))
