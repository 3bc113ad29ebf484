# Per-frame ResNet-18 + FCN on EchoNet-Dynamic (112x112, ED/ES tracings).
_base_ = [
    '../_base_/models/fcn_r18.py', '../_base_/datasets/echonet.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_50e_adam.py'
]
