from .arc_neck import ARCNeck

__all__ = ['ARCNeck']
