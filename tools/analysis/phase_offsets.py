"""Where the whole-video read-out puts ED and ES against the labelled frames (signed, in
frames and ms), how flat the area curve is there, and the EF at the labelled frames
against the detected beat's (docs/evaluation.md, "ED and ES by cardiac phase"):

    python tools/analysis/phase_offsets.py docs/results/method_table/cv/ROW-HASH.json \
        [more records or cross-validation work dirs] [--json OUT]

The logic lives in echoseg.analysis.phase_offsets.
"""
from echoseg.analysis.phase_offsets import main

if __name__ == '__main__':
    main()
