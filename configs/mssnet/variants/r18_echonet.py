# The former MSSNet model (a named variant; the MSSNet configs use the Mamba network):
# MSSNet on EchoNet-Dynamic: as camus.py at the AVIs' own 112 x 112 (as the per-frame
# baseline configs/baselines/fcn_r18_echonet.py and configs/echoforge/r18_echonet.py),
# clips of 10 frames ED -> ES, only ED and ES traced. SSG scans 14 x 14 tokens per frame
# at output stride 8.
#
#   python tools/train.py configs/mssnet/variants/r18_echonet.py \
#       --cfg-options train_dataloader.dataset.data_root=/path/to/EchoNet-Dynamic
_base_ = [
    '../../_base_/models/mssnet_r18.py', '../../_base_/datasets/echonet.py',
    '../../_base_/default_runtime.py', '../../_base_/schedules/schedule_50e_adam.py'
]
train_dataloader = dict(batch_size=4)
custom_hooks = [dict(type='PlainCheckpointHook')]
