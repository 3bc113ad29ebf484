from .ssg_encoder import SSGEncoder

__all__ = ['SSGEncoder']
