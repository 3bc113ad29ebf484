# PKEcho-Net on EchoNet-Dynamic (paper "Implementation Details"): ResNet-50 + MRP + KSS
# at 128 x 128 (the 112 x 112 AVIs upsampled), clips of 10 frames ED -> ES, only ED and
# ES traced; the recipe of r50_camus.py. Undilated like the paper's model: the encoder
# output is 4 x 4 and MRP upsamples 4 -> 8 -> 16 -> 32 -> 128.
_base_ = ['../_base_/recipes/pkechonet_r50_paper.py', '../_base_/datasets/echonet_128.py']

# the augmentations of r50_camus.py after the dataset config's loading, sampling and resizing
train_pipeline = _base_.train_pipeline[:4] + [
    dict(type='RandomClipFlip', prob=0.5),
    dict(type='RandomClipGamma', prob=0.5, gamma_range=(0.85, 1.15)),
    dict(type='RandomClipContrast', prob=0.5, contrast_range=(0.85, 1.15)),
    dict(type='RandomClipRotation', prob=0.5, angle_range=(-20.0, 20.0)),
    dict(type='PackEchoInputs'),
]
train_dataloader = dict(batch_size=8, dataset=dict(pipeline=train_pipeline))
