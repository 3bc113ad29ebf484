"""The one error type of echoseg's data layer (file readers and writers, datasets)."""


class EchoDataError(ValueError):
    """A data file or annotation that echoseg cannot use.

    The message always names the file (and the row, frame or key) and the problem, so a
    user can find and fix the case, or skip it with ``skip_invalid=True`` where a dataset
    offers it.
    """
