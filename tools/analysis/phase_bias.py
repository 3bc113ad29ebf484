"""LV size by cardiac phase, where the EF bias starts (docs/evaluation.md):

    python tools/analysis/phase_bias.py model CONFIG CHECKPOINT [--num-videos 64]
        [--real-data DIR | --real-data none] [--out phase_bias.json]
    python tools/analysis/phase_bias.py cv CV_WORK_DIR [--out ...]
    python tools/analysis/phase_bias.py generator [--num-videos 16] [--seed 2000] [--out ...]

The logic lives in echoseg.analysis.phase_bias.
"""
from echoseg.analysis.phase_bias import main

if __name__ == '__main__':
    main()
