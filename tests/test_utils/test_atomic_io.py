"""atomic_write: all or nothing; MMEngine's local backend writes through it."""
import os

import pytest
from mmengine.fileio import get_file_backend

import echoseg  # noqa: F401  (installs the atomic backend)
import echoseg.utils.atomic_io as atomic_io
from echoseg.utils.atomic_io import (AtomicLocalBackend, atomic_write,
                                     remove_stale_temp_files)


def test_atomic_write_replaces_whole_file(tmp_path):
    path = tmp_path / 'sub' / 'f.bin'
    atomic_write(path, b'old')
    atomic_write(path, 'new text')
    assert path.read_bytes() == b'new text'
    assert os.listdir(path.parent) == ['f.bin']


def test_failure_mid_write_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / 'f.bin'
    atomic_write(path, b'old')

    def broken(f, data):
        f.write(data[:2])
        raise OSError('disk full')

    monkeypatch.setattr(atomic_io, '_write_all', broken)
    with pytest.raises(OSError, match='disk full'):
        atomic_write(path, b'new contents')
    assert path.read_bytes() == b'old'
    assert os.listdir(tmp_path) == ['f.bin']  # the temporary file was removed


def test_stale_temp_files_removed(tmp_path):
    (tmp_path / '.iter_3.pth.abc.tmp').write_bytes(b'half')
    (tmp_path / 'iter_2.pth').write_bytes(b'ok')
    assert [os.path.basename(p) for p in remove_stale_temp_files(str(tmp_path))] == [
        '.iter_3.pth.abc.tmp']
    assert os.listdir(tmp_path) == ['iter_2.pth']


def test_mmengine_local_backend_is_atomic(tmp_path):
    backend = get_file_backend(str(tmp_path / 'x.pth'))
    assert isinstance(backend, AtomicLocalBackend)
    backend.put(b'data', str(tmp_path / 'x.pth'))
    backend.put_text('text', str(tmp_path / 'y.txt'))
    assert (tmp_path / 'x.pth').read_bytes() == b'data'
    assert (tmp_path / 'y.txt').read_text() == 'text'
