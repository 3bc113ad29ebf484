from .base_temporal_head import BaseTemporalDecodeHead
from .tsf_head import TSFHead

__all__ = ['BaseTemporalDecodeHead', 'TSFHead']
