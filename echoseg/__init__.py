"""echoseg: semi-supervised echocardiography video segmentation on MMEngine/mmseg."""
from .utils import checkpoint as _checkpoint  # noqa: F401  installs the safe checkpoint loader
from .version import __version__  # noqa: F401
