# EchoNet-Dynamic (docs/datasets.md): 112x112 apical 4-chamber AVIs, ED and ES traced.
# Split from FileList.csv's Split column; split_mode='ratio' (7:1:2, seed 0) for folders
# without one. No pixel spacing: distances are in pixels.
_base_ = ['./clips.py']
dataset_type = 'EchoNetDynamicDataset'
data_root = 'data/echonet'
image_size = (112, 112)

# clips.py's pipelines at this size
train_pipeline = [dict(t, scale=image_size) if t['type'] == 'ResizeClip' else t
                  for t in _base_.train_pipeline]
test_pipeline = [dict(t, scale=image_size) if t['type'] == 'ResizeClip' else t
                 for t in _base_.test_pipeline]

train_dataloader = dict(
    batch_size=8,
    dataset=dict(type=dataset_type, data_root=data_root, split='train', split_mode='column',
                 pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split='val', split_mode='column',
                 test_mode=True, pipeline=test_pipeline))
test_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split='test', split_mode='column',
                 test_mode=True, pipeline=test_pipeline))
