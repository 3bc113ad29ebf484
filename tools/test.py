"""Evaluate a checkpoint: python tools/test.py CONFIG CHECKPOINT [--out DIR]
[--work-dir D] [--cfg-options k=v ...] [--launcher pytorch]."""
from echoseg.cli import test_main

if __name__ == '__main__':
    test_main()
