"""Dataset checks and split files behind ``tools/dataset_converters/`` (docs/datasets.md)."""
