# The real-time model (mobilenetv2_causal_synthetic.py) on EchoNet-Dynamic's layout
# (FileList.csv, VolumeTracings.csv, Videos/; ED and ES traced, 112 x 112): the same model,
# pipelines and short schedule, the data of configs/baselines/fcn_r18_echonet.py, without
# the horizontal flip of the synthetic training clips (EchoNet-Dynamic's apical views are
# never mirrored; the flip read EF 11 points low from the ED/ES masks of the FCN-R18 recipe
# on the 7 shared videos, docs/evaluation.md; decided before this model's real rows ran). Start
# from the synthetic training with --cfg-options load_from=work_dirs/.../epoch_6.pth:
#
#   python tools/train.py configs/realtime/mobilenetv2_causal_echonet.py \
#       --cfg-options train_dataloader.dataset.data_root=/path/to/EchoNet-Dynamic \
#       val_dataloader.dataset.data_root=/path/to/EchoNet-Dynamic \
#       test_dataloader.dataset.data_root=/path/to/EchoNet-Dynamic
_base_ = ['./mobilenetv2_causal_synthetic.py']
data_root = 'data/echonet'
_echonet = dict(_delete_=True, type='EchoNetDynamicDataset', data_root=data_root,
                split_mode='column')
no_flip_reason = ('EchoNet-Dynamic videos are never mirrored; the flip read EF low on the '
                  'FCN-R18 recipe (docs/evaluation.md)')
train_pipeline = [t for t in _base_.train_pipeline if t['type'] != 'RandomClipFlip']
train_dataloader = dict(dataset=dict(_echonet, split='train', pipeline=train_pipeline))
val_dataloader = dict(batch_size=1, dataset=dict(_echonet, split='val', test_mode=True,
                                                 pipeline={{_base_.test_pipeline}}))
test_dataloader = dict(batch_size=1, dataset=dict(_echonet, split='test', test_mode=True,
                                                  pipeline={{_base_.test_pipeline}}))
