"""The Simpson EF of the traced ED/ES masks themselves against FileList.csv's EF, with the
tracings rasterised as the loader does at the video's size and on finer grids: the part of
a model's EF error that comes from the label convention and the read-out
(docs/evaluation.md):

    python tools/analysis/tracing_ef.py [--data-root DIR] [--scales 1 4 8] [--out FILE.json]

The logic lives in echoseg.analysis.tracing_ef.
"""
from echoseg.analysis.tracing_ef import main

if __name__ == '__main__':
    main()
