"""Files that are either absent, the old version or the complete new one, never partial.

:func:`atomic_write` writes to a temporary file in the target's folder, flushes and fsyncs
it, renames it over the target (``os.replace``, atomic on POSIX file systems) and fsyncs the
folder so the rename itself survives a power cut. A process killed at any point leaves the
previous file untouched and at worst a temporary ``.<name>.<random>.tmp`` beside it
(:func:`remove_stale_temp_files` clears those).

:class:`AtomicLocalBackend` makes MMEngine's local file backend write this way, so every
checkpoint and file MMEngine saves through its file backends (``Runner.save_checkpoint``,
``mmengine.dump``) is atomic; :func:`register_atomic_local_backend` installs it (``import
echoseg`` does).
"""
import glob
import os
import os.path as osp
import tempfile
from typing import List, Union

from mmengine.fileio import LocalBackend, register_backend

TEMP_SUFFIX = '.tmp'


def _write_all(f, data: bytes) -> None:
    f.write(data)


def fsync_dir(folder: str) -> None:
    """fsync a folder (its entries: a rename or a new file), where the OS allows it."""
    try:
        fd = os.open(folder or '.', os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on folders
    finally:
        os.close(fd)


def atomic_write(path: Union[str, os.PathLike], data: Union[bytes, str],
                 encoding: str = 'utf-8') -> str:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename); returns it."""
    path = os.fspath(path)
    if isinstance(data, str):
        data = data.encode(encoding)
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f'.{osp.basename(path)}.', suffix=TEMP_SUFFIX,
                               dir=folder)
    try:
        with os.fdopen(fd, 'wb') as f:
            _write_all(f, data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.unlink(tmp)
        raise
    fsync_dir(folder)
    return path


def remove_stale_temp_files(folder: str) -> List[str]:
    """Delete the temporary files an interrupted :func:`atomic_write` left in ``folder``;
    returns their paths."""
    removed = []
    for path in glob.glob(osp.join(glob.escape(folder), '.*' + TEMP_SUFFIX)):
        try:
            os.unlink(path)
            removed.append(path)
        except OSError:
            pass
    return removed


class AtomicLocalBackend(LocalBackend):
    """MMEngine's ``LocalBackend`` whose ``put``/``put_text`` write atomically."""

    def put(self, obj: bytes, filepath) -> None:
        atomic_write(filepath, obj)

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        atomic_write(filepath, obj, encoding)


def register_atomic_local_backend() -> None:
    """Make :class:`AtomicLocalBackend` MMEngine's backend for local paths (and drop local
    backends MMEngine has already cached, so every later lookup gets the atomic one)."""
    from mmengine.fileio import io as mmengine_io
    register_backend('local', AtomicLocalBackend, force=True, prefixes='')
    for key, backend in list(mmengine_io.backend_instances.items()):
        if type(backend) is LocalBackend:
            del mmengine_io.backend_instances[key]
