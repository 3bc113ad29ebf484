"""``CPUDistributedDataParallel``: MMEngine's DDP wrapper for CPU processes."""
from mmengine.logging import print_log
from mmengine.model import MMDistributedDataParallel

from echoseg.registry import MODEL_WRAPPERS
from .cpu_sync_batchnorm import convert_to_cpu_sync_batchnorm


@MODEL_WRAPPERS.register_module()
class CPUDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` for a CPU module (gloo).

    MMEngine's runner passes ``device_ids=[LOCAL_RANK]``, which DDP refuses for a CPU
    module, and DDP refuses ``SyncBatchNorm`` layers on CPU. This wrapper drops the device
    ids and turns ``SyncBatchNorm`` layers (``norm_cfg=dict(type='SyncBN')`` in a config, or
    ``sync_bn='torch'``) into :class:`CPUSyncBatchNorm`, which synchronises over gloo.
    ``echoseg.utils.config.load_config`` selects it when no GPU is visible.
    """

    def __init__(self, module, detect_anomalous_params: bool = False, **kwargs) -> None:
        kwargs.pop('device_ids', None)
        kwargs.pop('output_device', None)
        n = convert_to_cpu_sync_batchnorm(module)
        if n:
            print_log(f'{n} SyncBatchNorm layer(s) synchronised over the CPU process group '
                      '(CPUSyncBatchNorm)', logger='current')
        super().__init__(module=module, detect_anomalous_params=detect_anomalous_params,
                         **kwargs)
