from .camus import CAMUSDataset
from .echonet import EchoNetDynamicDataset
from .errors import EchoDataError
from .synthetic import SyntheticEchoDataset
from .transforms import *  # noqa: F401,F403

__all__ = ['CAMUSDataset', 'EchoNetDynamicDataset', 'SyntheticEchoDataset', 'EchoDataError']
