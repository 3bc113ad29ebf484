"""``tools/serve.py``'s command under its older path (kept for ``echoseg-serve`` scripts
installed before it moved): the command is :mod:`echoseg.cli.serve`."""
from echoseg.cli.serve import build_parser, build_service, check_files, main

__all__ = ['main', 'build_parser', 'check_files', 'build_service']
