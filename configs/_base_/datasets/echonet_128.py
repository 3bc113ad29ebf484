# EchoNet-Dynamic at 128 x 128 (the 112 x 112 AVIs upsampled): the input size of the
# ResNet-50 paper configs on EchoNet (configs/{echoforge,ncmnet,pkechonet}/r50_echonet.py).
_base_ = ['./echonet.py']
image_size = (128, 128)

train_pipeline = [dict(t, scale=image_size) if t['type'] == 'ResizeClip' else t
                  for t in _base_.train_pipeline]
test_pipeline = [dict(t, scale=image_size) if t['type'] == 'ResizeClip' else t
                 for t in _base_.test_pipeline]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
