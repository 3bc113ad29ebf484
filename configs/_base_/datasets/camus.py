# CAMUS (docs/datasets.md): 2CH + 4CH half sequences, patient-level split 7:1:2
# (data_splits/camus_split_seed0.json). Train and evaluate CAMUS-Semi (ED and ES labelled,
# clips of T = 10 frames). CAMUS-Full evaluates every frame of each half sequence: set
# mode='full' and pipeline=full_test_pipeline on the val/test datasets, batch_size=1
# (configs/echoforge/r50_camus_full.py does).
dataset_type = 'CAMUSDataset'
data_root = 'data/camus'
image_size = (256, 256)
num_frames = 10
views = ('2CH', '4CH')
label_map = {1: 1}          # LV cavity; {1: 1, 2: 2, 3: 3} adds myocardium and atrium

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
# CAMUS-Full: the whole half sequence, ED to ES, as one clip (T = its frame count); clips
# of different lengths cannot share a batch, so batch_size=1
full_test_pipeline = [
    dict(type='LoadEchoVideo'),
    dict(type='LoadEchoAnnotations'),
    dict(type='SampleClipFrames', all_frames=True),
    dict(type='ResizeClip', scale=image_size, keep_ori_masks=True),
    dict(type='PackEchoInputs'),
]

train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='train', views=views,
                 mode='semi', label_map=label_map, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='val', views=views,
                 mode='semi', label_map=label_map, test_mode=True, pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='test', views=views,
                 mode='semi', label_map=label_map, test_mode=True, pipeline=test_pipeline))
val_evaluator = dict(type='EchoMetric')
test_evaluator = val_evaluator
