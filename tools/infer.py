"""Segment whole echo videos and report LV volumes, ED/ES frames and EF per beat:

    python tools/infer.py CONFIG CHECKPOINT INPUT [INPUT ...] --out-dir DIR
        [--device cpu] [--spacing ROW COL] [--fps F] [--num-frames T] [--no-video]
        [--skip-invalid] [--no-postprocess] [--temporal-window W] [--tta-flip]

See docs/inference.md; the logic lives in echoseg.apis.infer_tool.
"""
import sys

from echoseg.apis.infer_tool import main

if __name__ == '__main__':
    sys.exit(main())
