"""Where the analyses find the repository's configs and the shared echo samples."""
import os
import os.path as osp

#: the checkout holding this package (its ``configs/`` are the tools' defaults)
REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_ROOT = osp.join(REPO_ROOT, 'configs')


def echodata_root() -> str:
    """``$ECHOSEG_ECHODATA`` (absolute: a relative one is read from the working
    directory now, so that links and subprocesses elsewhere find it), else
    ``../shared/echodata`` beside the repository (as the tests find the real samples)."""
    return osp.abspath(os.environ.get('ECHOSEG_ECHODATA',
                                      osp.join(osp.dirname(REPO_ROOT), 'shared', 'echodata')))


def default_data_root() -> str:
    """The shared EchoNet-Dynamic sample: ``echonet_sample`` under :func:`echodata_root`."""
    return osp.join(echodata_root(), 'echonet_sample')


def shown_path(path: str) -> str:
    """Relative to the repository when inside it, else absolute."""
    path = osp.abspath(path)
    return osp.relpath(path, REPO_ROOT) if path.startswith(REPO_ROOT + os.sep) else path
