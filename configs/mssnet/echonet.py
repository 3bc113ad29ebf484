# MSSNet on EchoNet-Dynamic: as camus.py at the AVIs' own 112 x 112 (as the per-frame
# baseline configs/baselines/fcn_r18_echonet.py), clips of 10 frames ED -> ES, only ED and
# ES traced. The encoder's stride-2 convolutions pad odd sizes (28, 14, 7, 4): SSG sees
# 4 x 4 tokens per frame (its position embedding resized from 8 x 8).
#
#   python tools/train.py configs/mssnet/echonet.py \
#       --cfg-options train_dataloader.dataset.data_root=/path/to/EchoNet-Dynamic
# The former ResNet-18 model: configs/mssnet/variants/r18_echonet.py.
_base_ = [
    '../_base_/models/mssnet_mamba.py', '../_base_/datasets/echonet.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_50e_adam.py'
]
model = dict(neck=dict(grid_size=(4, 4)))
train_dataloader = dict(batch_size=4)
custom_hooks = [dict(type='PlainCheckpointHook')]
