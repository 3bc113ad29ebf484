"""Fixtures of the viewer tests: a tiny model whose masks follow a beating synthetic LV,
its checkpoint and config on disk, synthetic videos, and a live server on a free port."""
import contextlib
import os.path as osp
import threading
import types

import numpy as np
import pytest
import torch

from echoseg.web.screenshot import free_port, wait_for

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASELINE = osp.join(ROOT, 'configs', 'baselines', 'fcn_r18_synthetic.py')


def beating_lv(n=60, h=48, w=64, period=15.0):
    """A dark elliptic LV on bright tissue whose radius follows a cosine (4 beats), and
    its (N, H, W) bool masks. The LV stays 5 pixels or more inside the frame."""
    radius = 11 + 4 * np.cos(2 * np.pi * np.arange(n) / period)
    yy, xx = np.mgrid[:h, :w]
    dist2 = (yy - h / 2) ** 2 / 1.6 + (xx - w / 2) ** 2
    cavity = dist2[None] <= radius[:, None, None] ** 2
    return np.where(cavity, 30, 170).astype(np.uint8), cavity


@pytest.fixture(scope='session')
def tiny_viewer(tmp_path_factory):
    """A tiny FCN (ResNet-18 with 8 base channels at output stride 4), randomly
    initialised (seed 1), whose last 1x1 convolution alone is then set by least squares
    on its own features so that its LV masks follow the synthetic LV. A purely random
    model labels every pixel LV (or none); this one gives a compact LV inside the frame,
    so the beats pass the plausibility checks and the video has a finite mean EF."""
    import torch.nn.functional as F

    from echoseg.apis import VideoPredictor, init_model, load_video
    from echoseg.io import write_video
    from echoseg.testing import write_tiny_config
    root = tmp_path_factory.mktemp('viewer')
    config = write_tiny_config(str(root), BASELINE, size=32, num_frames=3)
    with open(config, 'a') as f:
        f.write("model['backbone']['strides'] = (1, 1, 1, 1)\n")   # 12 x 16 logits
    video_path = str(root / 'beating_lv.avi')
    frames, cavity = beating_lv()
    write_video(video_path, frames, fps=25.0)
    frames = load_video(video_path)[0]
    torch.manual_seed(1)
    model = init_model(config)
    head = model.decode_head.conv_seg
    features = []
    hook = head.register_forward_hook(lambda m, args, out: features.append(args[0]))
    VideoPredictor(model, stride=3).predict(frames)   # windows side by side: frames once
    hook.remove()
    x = torch.cat(features).double()                  # (N, C, h, w)
    n, c, fh, fw = x.shape
    target = F.interpolate(torch.from_numpy(cavity).double()[:, None], size=(fh, fw),
                           mode='area')[:, 0]
    design = torch.cat([x.permute(0, 2, 3, 1).reshape(-1, c),
                        torch.ones(n * fh * fw, 1, dtype=torch.double)], 1)
    margin = (target.reshape(-1, 1) * 2 - 1) * 4      # LV - background logit
    solution = torch.linalg.lstsq(design, margin).solution[:, 0].float()
    with torch.no_grad():
        head.weight.zero_()
        head.bias.zero_()
        head.weight[1, :, 0, 0] = solution[:c]
        head.bias[1] = solution[c]
    checkpoint = str(root / 'tiny.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, checkpoint)
    return types.SimpleNamespace(root=root, config=config, checkpoint=checkpoint,
                                 video=video_path)


@contextlib.contextmanager
def live_server(service):
    """Serve ``create_app(service)`` with uvicorn in a thread on a free localhost port;
    yields the base URL. The service is closed when the server stops."""
    import uvicorn

    from echoseg.web import create_app
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(service), host='127.0.0.1', port=port,
                                           log_level='warning'))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f'http://127.0.0.1:{port}'
    try:
        wait_for(url + '/api/health', timeout=30)
        yield url
    finally:
        server.should_exit = True
        thread.join(30)


def assert_json_as_infer(ours: dict, theirs: dict, result) -> None:
    """The viewer's JSON is infer's for the same video: every key of ``result.to_dict()``
    and ``config``/``checkpoint`` with infer's values; ``source`` differs (the upload's
    name). Keys infer adds about its own command-line options may be absent."""
    ours, theirs = dict(ours), dict(theirs)
    ours.pop('source')
    theirs.pop('source')
    assert set(result.to_dict()) | {'config', 'checkpoint'} <= set(ours) <= set(theirs)
    assert ours == {k: theirs[k] for k in ours}


@pytest.fixture(scope='session')
def web():
    """The helpers above, for test modules (tests are not a package)."""
    return types.SimpleNamespace(live_server=live_server, free_port=free_port,
                                 wait_for=wait_for, assert_json_as_infer=assert_json_as_infer)
