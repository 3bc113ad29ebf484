"""Segment whole echo videos and report LV volumes, ED/ES frames and EF per beat:

    python tools/infer.py CONFIG CHECKPOINT INPUT [INPUT ...] --out-dir DIR
        [--device cpu] [--spacing ROW COL] [--fps F] [--num-frames T] [--no-video]
        [--skip-invalid] [--no-postprocess] [--temporal-window W] [--tta-flip]

See docs/inference.md; the logic lives in echoseg.cli.infer.
"""
import sys

from echoseg.cli.infer import main

if __name__ == '__main__':
    sys.exit(main())
