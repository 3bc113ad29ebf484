"""Fixtures of the command-line tests: a tiny model's config and checkpoint on disk, and
synthetic videos of a beating disc."""
import os.path as osp

import numpy as np
import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASELINE = osp.join(ROOT, 'configs', 'baselines', 'fcn_r18_synthetic.py')


def _beating_disc(n=20, h=40, w=56, period=8.0):
    yy, xx = np.mgrid[:h, :w]
    frames = []
    for i in range(n):
        r = 10 + 4 * np.cos(2 * np.pi * i / period)
        disc = (yy - h / 2) ** 2 + (xx - w / 2) ** 2 <= r * r
        frames.append(np.where(disc, 30, 170).astype(np.uint8))
    return np.stack(frames)


@pytest.fixture(scope='session')
def beating_disc():
    """``beating_disc(n=20, h=40, w=56, period=8.0)``: (n, h, w) uint8 frames of a dark
    disc whose radius follows a cosine."""
    return _beating_disc


@pytest.fixture(scope='module')
def tiny_model_files(tmp_path_factory):
    """(config, checkpoint, root) of a tiny FCN with its weights as built; ``root/videos``
    holds ``beat.avi`` (20 frames, 25 fps) and ``half.nii.gz`` (6 frames, spacing)."""
    import torch

    from echoseg.apis import init_model
    from echoseg.io import write_video
    from echoseg.testing import write_tiny_config
    root = tmp_path_factory.mktemp('infer')
    config = write_tiny_config(str(root), BASELINE, size=32, num_frames=3)
    model = init_model(config)   # 0 training iterations: the weights as built
    ckpt = osp.join(root, 'tiny.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, ckpt)
    videos = root / 'videos'
    videos.mkdir()
    write_video(str(videos / 'beat.avi'), _beating_disc(), fps=25.0)
    write_video(str(videos / 'half.nii.gz'), _beating_disc(n=6), spacing=(0.5, 0.4))
    return config, ckpt, root
