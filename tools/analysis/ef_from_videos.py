"""Batch EF of unlabelled videos against an EchoNet-layout FileList (docs/inference.md):

    python tools/analysis/ef_from_videos.py CONFIG CHECKPOINT DATA_ROOT --out-dir DIR
        [--split TEST] [--limit N] [--device cpu] [--frame-step S] [--threads 2]

The logic lives in echoseg.analysis.video_ef.
"""
from echoseg.analysis.video_ef import main

if __name__ == '__main__':
    main()
