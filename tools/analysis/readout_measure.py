"""The clinical read-out on held-out real videos: post-processing, plausibility flags,
mirrored views and test-time flip averaging (docs/inference.md, "Measured"):

    python tools/analysis/readout_measure.py CV_DIR [CV_DIR ...] [--labels A B ...]
        [--data-root DIR] [--out-dir DIR] [--threads 1] [--videos N]
    python tools/analysis/readout_measure.py --merge A.json B.json ... [--out-dir DIR]

The logic lives in echoseg.analysis.readout.
"""
from echoseg.analysis.readout import main

if __name__ == '__main__':
    main()
