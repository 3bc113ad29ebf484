"""Parameters and multiply-adds (GMACs, the project's one unit) of an echoseg model on one
clip:

    python tools/analysis/get_flops.py CONFIG [--shape H W] [--frames T]
        [--method torch|mmengine] [--cfg-options k=v ...] [--json OUT.json]

See docs/benchmarks.md; the logic lives in echoseg.analysis.complexity.
"""
import sys

from echoseg.analysis.complexity import main

if __name__ == '__main__':
    sys.exit(0 if main() else 1)
