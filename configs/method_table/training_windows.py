# Temporal models trained on the clips they are run on (docs/real_data.md, "The PKEcho-Net
# row"): PKEcho-Net as the method table runs it (the paper's ED -> ES training clips,
# systole only) and the same fine-tuning with phase-shifted training clips (half of them
# moved 1-5 clip steps past ES or before ED, SampleClipFrames(shift_prob=0.5)), which is
# what whole-video inference shows the model: windows at every phase. Same pretraining
# (the first row's stage hash), folds, seeds and read-out: the method table's protocol,
# inherited.
#
#   python tools/analysis/method_table.py configs/method_table/training_windows.py \
#       --work-root /path/to/runs --threads 1 [--rows NAME] [--stages pretrain cv]
#
# The second row was fixed after the first row's result (its whole-video ES found 7 frames
# late, EF read 15 points high) and before it ran.
_base_ = ['./real_protocol.py']

rows = [r for r in _base_.rows if r['name'] == 'PKEcho-Net'] + [
    dict(name='PKEcho-Net, phase-shifted training clips', encoder='ResNet-18; paper ResNet-50',
         model='pretrain',
         finetune='configs/pkechonet/variants/shifted_clips_r50_echonet.py',
         pretrain='configs/pkechonet/r18_synthetic.py',
         note='half of the training clips moved 1-5 clip steps past ES or before ED'),
]
