""":class:`~echoseg.io.errors.EchoDataError` under its older path (the datasets raise it)."""
from echoseg.io.errors import EchoDataError

__all__ = ['EchoDataError']
