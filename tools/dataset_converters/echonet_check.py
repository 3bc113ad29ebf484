"""Validate an EchoNet-Dynamic folder and print a report:
python tools/dataset_converters/echonet_check.py FOLDER [--split-mode ratio] (the logic
lives in echoseg.datasets.converters.echonet_check; docs/datasets.md)."""
import sys

from echoseg.datasets.converters.echonet_check import main

if __name__ == '__main__':
    sys.exit(main())
