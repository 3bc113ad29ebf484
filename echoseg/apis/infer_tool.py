"""``tools/infer.py``'s command under its older path (kept for existing imports; the
command is :mod:`echoseg.cli.infer`). ``write_outputs`` is not here: it moved to
:mod:`echoseg.apis.export` and returns ``{kind: path}`` now, not a list."""
from echoseg.apis.export import SUMMARY_FIELDS, publish_outputs
from echoseg.cli.infer import build_parser, collect_inputs, main

__all__ = ['main', 'build_parser', 'collect_inputs', 'publish_outputs', 'SUMMARY_FIELDS']
