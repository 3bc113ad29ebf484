# Built-in synthetic echo clips (docs/synthetic_data.md): no download needed.
_base_ = ['./clips.py']
dataset_type = 'SyntheticEchoDataset'
image_size = (128, 128)

# clips.py's pipelines at this size
train_pipeline = [dict(t, scale=image_size) if t['type'] == 'ResizeClip' else t
                  for t in _base_.train_pipeline]
test_pipeline = [dict(t, scale=image_size) if t['type'] == 'ResizeClip' else t
                 for t in _base_.test_pipeline]

# the generator's look: 'realistic' (default) or 'classic' (before the realistic look;
# e.g. --cfg-options train_dataloader.dataset.generator_cfg.style=classic)
generator_cfg = dict(style='realistic')
train_dataloader = dict(
    batch_size=2,
    dataset=dict(type=dataset_type, num_videos=64, seed=0, mode='semi',
                 image_size=image_size, difficulty='medium', generator_cfg=generator_cfg,
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=2,
    # 'full': every frame of the validation clips carries its mask and is evaluated
    dataset=dict(type=dataset_type, num_videos=16, seed=1000, mode='full',
                 image_size=image_size, difficulty='medium', test_mode=True,
                 generator_cfg=generator_cfg, pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=2,
    dataset=dict(type=dataset_type, num_videos=16, seed=2000, mode='full',
                 image_size=image_size, difficulty='medium', test_mode=True,
                 generator_cfg=generator_cfg, pipeline=test_pipeline))
