# EchoNet-Dynamic (docs/datasets.md): 112x112 apical 4-chamber AVIs, ED and ES traced.
# Split from FileList.csv's Split column; split_mode='ratio' (7:1:2, seed 0) for folders
# without one. No pixel spacing: distances are in pixels.
dataset_type = 'EchoNetDynamicDataset'
data_root = 'data/echonet'
image_size = (112, 112)
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
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='train', split_mode='column',
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='val', split_mode='column',
                 test_mode=True, pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='test', split_mode='column',
                 test_mode=True, pipeline=test_pipeline))
val_evaluator = dict(type='EchoMetric')
test_evaluator = val_evaluator
