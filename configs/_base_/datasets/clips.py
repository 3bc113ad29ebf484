# What the echo datasets share (camus.py, echonet.py, synthetic.py): clips of T = 10
# frames, the training and test pipelines, the dataloaders' workers, samplers and collation,
# and EchoMetric. A dataset config sets image_size, resizes these pipelines to it (their
# ResizeClip's scale) and gives each dataloader its dataset (and the training one its
# batch size).
image_size = None           # each dataset config's own
num_frames = 10

train_pipeline = [
    dict(type='LoadEchoVideo'),
    dict(type='LoadEchoAnnotations'),
    dict(type='SampleClipFrames', num_frames=num_frames),
    dict(type='ResizeClip', scale=image_size),
    dict(type='RandomClipFlip', prob=0.5),  # mirrored views (LV on the left)
    dict(type='RandomClipGamma', prob=0.5),
    dict(type='RandomClipScale', prob=0.5),
    dict(type='RandomClipRotation', prob=0.5),
    dict(type='RandomClipContrast', prob=0.5),
    dict(type='PackEchoInputs'),
]
test_pipeline = [
    dict(type='LoadEchoVideo'),
    dict(type='LoadEchoAnnotations'),
    dict(type='SampleClipFrames', num_frames=num_frames),
    dict(type='ResizeClip', scale=image_size, keep_ori_masks=True),
    dict(type='PackEchoInputs'),
]

train_dataloader = dict(
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'))
test_dataloader = val_dataloader
val_evaluator = dict(type='EchoMetric')
test_evaluator = val_evaluator
