from .base_temporal_head import BaseTemporalDecodeHead

__all__ = ['BaseTemporalDecodeHead']
