# EchoForge with and without its pixel decoder on real echo (docs/methods/echoforge.md,
# "Pixel decoder or not"): the paper-faithful model (Mask2Former-style pixel decoder, masks
# at stride 4) and EchoForge-ND (no decoder, masks on TSF's stride-8 map), each pretrained
# on 512 synthetic videos with its own design, then cross-validated on the 7 shared
# EchoNet videos with the few-video recipe's fine-tuning, folds, seeds and post-processing:
# the method table's protocol, inherited (the faithful row is real_protocol.py's, same
# stage hashes, so the two tables share its runs through one work root or the archive).
#
#   python tools/analysis/method_table.py configs/method_table/echoforge_decoder.py \
#       --work-root /path/to/runs --threads 1 [--rows NAME] [--stages pretrain cv]
#
# Both rows were fixed before either ran; neither setting was tuned on these videos.
_base_ = ['./real_protocol.py']

rows = [r for r in _base_.rows if r['name'] == 'EchoForge, paper-faithful'] + [
    dict(name='EchoForge-ND (no pixel decoder)', encoder='ResNet-18; paper ResNet-50',
         finetune='configs/echoforge/variants/nd_r18_echonet.py',
         pretrain='configs/echoforge/variants/nd_r18_synthetic.py',
         note='TSF on ARC\'s stride-8 map, masks there, upsampled bilinearly'),
]
