"""Where a method-table row loses to another, video by video: Dice, areas, EF errors and
failure flags (missed frame, second blob, wrong piece kept, ES not contracted, ED small)
of two cross-validation records side by side, each video's share of the Dice gap:

    python tools/analysis/row_diagnosis.py docs/results/method_table/cv/ROW-KEY.json \
        --baseline docs/results/method_table/cv/BASE-KEY.json [--out FILE.md] [--json FILE]

The logic lives in echoseg.analysis.row_diagnosis.
"""
from echoseg.analysis.row_diagnosis import main

if __name__ == '__main__':
    main()
