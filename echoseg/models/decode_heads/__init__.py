from .base_temporal_head import BaseTemporalDecodeHead
from .tsf_head import TSFHead
from .kss_head import KSSHead
from .uma_head import UMAHead
from .causal_temporal_head import CausalTemporalHead
from .ssg_decoder_head import SSGDecoderHead
from .vss_decoder_head import VSSDecoderHead

__all__ = ['BaseTemporalDecodeHead', 'TSFHead', 'KSSHead', 'UMAHead', 'CausalTemporalHead',
           'SSGDecoderHead', 'VSSDecoderHead']
