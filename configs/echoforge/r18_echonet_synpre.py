# EchoForge's few-video recipe (docs/synthetic_data.md, "Synthetic pretraining and
# fine-tuning"): configs/echoforge/r18_echonet.py (semi-supervised: CPR labels the middle
# frames of every ED -> ES clip of the real videos) initialised from the synthetic
# pretraining of configs/echoforge/r18_synthetic.py (the same modules and widths; the
# output stride differs by dilation only, so every weight fits). First pretrain:
#
#   python tools/train.py configs/echoforge/r18_synthetic.py
#
# which writes work_dirs/r18_synthetic/epoch_6.pth, then fine-tune:
#
#   python tools/train.py configs/echoforge/r18_echonet_synpre.py \
#       --cfg-options train_dataloader.dataset.data_root=/path/to/echonet \
#       val_dataloader.dataset.data_root=/path/to/echonet \
#       test_dataloader.dataset.data_root=/path/to/echonet
_base_ = ['./r18_echonet.py']
load_from = 'work_dirs/r18_synthetic/epoch_6.pth'
