"""Cross-validation of a config on an EchoNet-Dynamic folder (docs/real_data.md):

    python tools/analysis/cross_validate.py CONFIG [--data-root DIR]
        [--folds K | --leave-one-out] [--split-seed 0] [--train-sizes N [N ...]]
        [--epochs E] [--seeds S [S ...]] [--load-from CKPT] [--cfg-options k=v ...]
        [--work-dir DIR] [--threads N] [--num-workers W] [--no-video-ef]
        [--keep-checkpoints] [--postprocess] [--resume] [--checkpoint-interval E]

The logic lives in echoseg.analysis.cross_validation.
"""
from echoseg.analysis.cross_validation import main

if __name__ == '__main__':
    main()
