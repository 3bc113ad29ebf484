# CAMUS (docs/datasets.md): 2CH + 4CH half sequences, patient-level split 7:1:2
# (data_splits/camus_split_seed0.json). Train and evaluate CAMUS-Semi (ED and ES labelled,
# clips of T = 10 frames). CAMUS-Full evaluates every frame of each half sequence: set
# mode='full' and pipeline=full_test_pipeline on the val/test datasets, batch_size=1
# (configs/echoforge/r50_camus_full.py does).
_base_ = ['./clips.py']
dataset_type = 'CAMUSDataset'
data_root = 'data/camus'
image_size = (256, 256)
views = ('2CH', '4CH')
label_map = {1: 1}          # LV cavity; {1: 1, 2: 2, 3: 3} adds myocardium and atrium

# clips.py's pipelines at this size
train_pipeline = [dict(t, scale=image_size) if t['type'] == 'ResizeClip' else t
                  for t in _base_.train_pipeline]
test_pipeline = [dict(t, scale=image_size) if t['type'] == 'ResizeClip' else t
                 for t in _base_.test_pipeline]
# CAMUS-Full: the whole half sequence, ED to ES, as one clip (T = its frame count); clips
# of different lengths cannot share a batch, so batch_size=1
full_test_pipeline = [dict(type='SampleClipFrames', all_frames=True)
                      if t['type'] == 'SampleClipFrames' else t for t in test_pipeline]

train_dataloader = dict(
    batch_size=4,
    dataset=dict(type=dataset_type, data_root=data_root, split='train', views=views,
                 mode='semi', label_map=label_map, pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split='val', views=views,
                 mode='semi', label_map=label_map, test_mode=True, pipeline=test_pipeline))
test_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split='test', views=views,
                 mode='semi', label_map=label_map, test_mode=True, pipeline=test_pipeline))
