from .arc_neck import ARCNeck
from .mrp_neck import MRPNeck
from .ssg_neck import SSGNeck

__all__ = ['ARCNeck', 'MRPNeck', 'SSGNeck']
