"""Regenerate, check or inspect the CAMUS patient-level split file:
python tools/dataset_converters/camus_make_split.py [--check | --show] (the logic lives
in echoseg.datasets.converters.camus_make_split; docs/datasets.md)."""
import sys

from echoseg.datasets.converters.camus_make_split import main

if __name__ == '__main__':
    sys.exit(main())
