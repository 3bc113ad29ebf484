"""What semi-supervision adds on synthetic clips, and from which scale on (docs/real_data.md,
"What semi-supervision adds"):

    python tools/experiments/semi_supervision_scale.py [--methods fcn echoforge]
        [--sizes 8 32 128] [--seeds 0 1] [--epochs 6 | --iterations 192]
        [--work-dir DIR] [--threads 1]

The logic lives in echoseg.analysis.semi_supervision_scale.
"""
from echoseg.analysis.semi_supervision_scale import main

if __name__ == '__main__':
    main()
