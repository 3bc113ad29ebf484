# The real-time model (mobilenetv2_causal_synthetic.py) on EchoNet-Dynamic's layout
# (FileList.csv, VolumeTracings.csv, Videos/; ED and ES traced, 112 x 112): the same model,
# pipelines and short schedule, the data of configs/baselines/fcn_r18_echonet.py. Start
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
train_dataloader = dict(dataset=dict(_echonet, split='train',
                                     pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(batch_size=1, dataset=dict(_echonet, split='val', test_mode=True,
                                                 pipeline={{_base_.test_pipeline}}))
test_dataloader = dict(batch_size=1, dataset=dict(_echonet, split='test', test_mode=True,
                                                  pipeline={{_base_.test_pipeline}}))
