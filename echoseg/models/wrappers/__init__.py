from .cpu_distributed_data_parallel import CPUDistributedDataParallel
from .cpu_sync_batchnorm import CPUSyncBatchNorm, convert_to_cpu_sync_batchnorm

__all__ = ['CPUDistributedDataParallel', 'CPUSyncBatchNorm', 'convert_to_cpu_sync_batchnorm']
