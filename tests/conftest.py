import os.path as osp

import pytest

from echoseg.analysis.paths import echodata_root

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


@pytest.fixture
def echodata():
    root = echodata_root()
    if not osp.isdir(root):
        pytest.skip(f'real echo samples not found at {root} (set ECHOSEG_ECHODATA)')
    return root


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny CPU models run fastest on one thread, and tests then do not oversubscribe the
    cores that tools started in subprocesses also use."""
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def no_downloads(monkeypatch):
    """Tests never download: echoseg's one network call (pretrained weights) fails the test
    for any host but this machine (tests serve files on 127.0.0.1)."""
    from urllib.parse import urlparse

    from echoseg.utils import pretrained
    real = pretrained._open_url

    def local_only(url, timeout):
        if urlparse(url).hostname not in ('127.0.0.1', 'localhost'):
            raise AssertionError(f'a test tried to download {url}')
        return real(url, timeout)

    monkeypatch.setattr(pretrained, '_open_url', local_only)
