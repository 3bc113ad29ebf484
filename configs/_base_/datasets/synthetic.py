# Built-in synthetic echo clips (docs/synthetic_data.md): no download needed.
dataset_type = 'SyntheticEchoDataset'
image_size = (128, 128)
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

# the generator's look: 'realistic' (default) or 'classic' (before the realistic look;
# e.g. --cfg-options train_dataloader.dataset.generator_cfg.style=classic)
generator_cfg = dict(style='realistic')
train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type=dataset_type, num_videos=64, seed=0, mode='semi',
                 image_size=image_size, difficulty='medium', generator_cfg=generator_cfg,
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    # 'full': every frame of the validation clips carries its mask and is evaluated
    dataset=dict(type=dataset_type, num_videos=16, seed=1000, mode='full',
                 image_size=image_size, difficulty='medium', test_mode=True,
                 generator_cfg=generator_cfg, pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type=dataset_type, num_videos=16, seed=2000, mode='full',
                 image_size=image_size, difficulty='medium', test_mode=True,
                 generator_cfg=generator_cfg, pipeline=test_pipeline))
val_evaluator = dict(type='EchoMetric')
test_evaluator = val_evaluator
