"""Every method on real echo under one protocol: synthetic pretraining, cross-validation,
complexity and speed per row, one table and plot (docs/real_data.md, "Method table"):

    python tools/analysis/method_table.py [PROTOCOL] [--configs CFG [CFG ...]]
        [--data-root DIR] [--work-root DIR] [--seeds S [S ...]] [--folds K]
        [--rows NAME [NAME ...]] [--stages STAGE [STAGE ...] | --table-only] [--threads N]
        [--retime] [--plot PNG] [--dry-run]

The logic lives in echoseg.analysis.method_table.
"""
from echoseg.analysis.method_table import main

if __name__ == '__main__':
    main()
