from .arc_neck import ARCNeck
from .mrp_neck import MRPNeck
from .ncm_neck import NCMNeck
from .sap_tap_neck import SAPTAPNeck
from .ssg_neck import SSGNeck

__all__ = ['ARCNeck', 'MRPNeck', 'NCMNeck', 'SAPTAPNeck', 'SSGNeck']
