"""A local web viewer on top of :mod:`echoseg.apis` (``tools/serve.py``).

- :class:`InferenceService`: one model, one worker thread and a queue (one inference at a
  time), per-browser sessions whose uploads and results live in a temporary folder.
- :func:`create_app`: the FastAPI app (JSON API, the page, the result files).
- :func:`echoseg.cli.serve.main`: the command line (``tools/serve.py``,
  ``echoseg-serve``).

FastAPI and uvicorn are imported only here, so ``import echoseg`` does not need them.
See ``docs/web_viewer.md``.
"""
from .service import InferenceService, Job, QueueFull, UploadRejected

__all__ = ['InferenceService', 'Job', 'QueueFull', 'UploadRejected', 'create_app']


def create_app(*args, **kwargs):
    """:func:`echoseg.web.app.create_app` (imported lazily: it needs FastAPI)."""
    from .app import create_app as _create_app
    return _create_app(*args, **kwargs)
