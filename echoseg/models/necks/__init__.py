from .arc_neck import ARCNeck
from .mrp_neck import MRPNeck

__all__ = ['ARCNeck', 'MRPNeck']
