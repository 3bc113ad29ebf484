# PKEcho-Net's training as in its paper ("Implementation Details"), without the data:
# ResNet-50 + MRP + KSS from ImageNet weights, 50 epochs, Adam, lr 1e-3 with poly decay
# (power 0.9) every iteration (configs/pkechonet/r50_camus.py, r50_echonet.py).
_base_ = [
    '../models/pkechonet_r50.py', '../default_runtime.py', '../schedules/schedule_50e_adam.py'
]

# ImageNet initialisation as the authors' code: torchvision's ResNet-50 weights, downloaded
# once into ~/.cache/torch/hub/checkpoints (docs/getting_started.md "ImageNet weights";
# offline: --cfg-options model.backbone.init_cfg.checkpoint=/path/to/resnet50-0676ba61.pth)
model = dict(
    backbone=dict(init_cfg=dict(
        type='Pretrained',
        checkpoint='https://download.pytorch.org/models/resnet50-0676ba61.pth')))
optim_wrapper = dict(optimizer=dict(lr=1e-3))
