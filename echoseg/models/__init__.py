from .backbones import *  # noqa: F401,F403
from .clip_mixers import *  # noqa: F401,F403
from .data_preprocessor import EchoDataPreprocessor
from .decode_heads import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .pseudo_labelers import *  # noqa: F401,F403
from .segmentors import EchoVideoSegmentor
from .utils import ClipContext, is_temporal
from .wrappers import *  # noqa: F401,F403

__all__ = ['EchoDataPreprocessor', 'EchoVideoSegmentor', 'ClipContext', 'is_temporal']
