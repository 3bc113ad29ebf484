from .ssg_encoder import SSGEncoder
from .vss_encoder import VSSEncoder

__all__ = ['SSGEncoder', 'VSSEncoder']
