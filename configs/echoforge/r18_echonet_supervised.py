# EchoForge (ARC + TSF) on EchoNet-Dynamic trained on the labelled ED and ES frames only:
# r18_echonet.py without CPR, i.e. without pseudo-labels for the middle frames (and without
# FlameRise, which schedules their weight). The supervised arm of EchoForge in the learning
# curve of docs/real_data.md (scratch, or synthetic-pretrained with
# --cfg-options load_from=work_dirs/r18_synthetic/epoch_6.pth); r18_echonet.py is the
# semi-supervised arm. The synthetic checkpoint's CPR weights are simply not loaded.
_base_ = ['./r18_echonet.py']
model = dict(pseudo_labeler=None)
custom_hooks = [dict(type='PlainCheckpointHook')]
log_processor = dict(by_epoch=True, custom_cfg=[])
