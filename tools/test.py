"""Evaluate a checkpoint: python tools/test.py CONFIG CHECKPOINT [--out DIR]
[--work-dir D] [--cfg-options k=v ...] [--launcher pytorch] (echoseg.cli.test)."""
from echoseg.cli.test import main

if __name__ == '__main__':
    main()
