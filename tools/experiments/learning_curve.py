"""One learning-curve table from several cross-validation runs (docs/real_data.md):

    python tools/experiments/learning_curve.py WORK_DIR [WORK_DIR ...] [--out FILE.md]
        [--json FILE.json]

The logic lives in echoseg.analysis.learning_curve.
"""
import sys

from echoseg.analysis.learning_curve import main

if __name__ == '__main__':
    sys.exit(main())
