"""The peak-memory probe of echoseg's benchmarks (model speed, MSSNet's scan, NCM-Net).

On a CUDA device the peak is PyTorch's ``max_memory_allocated`` (its statistics reset on
entry) and the growth is that peak minus the memory allocated on entry. On the CPU the peak
is the kernel's high-water mark of this process's resident set (Linux ``VmHWM``, reset on
entry through ``/proc/self/clear_refs``: every page the block touches counts, however
briefly) and the growth is that peak minus the resident set on entry. Memory the process
freed earlier and still holds is reused without counting: measure in a fresh process (and
with ``MALLOC_MMAP_THRESHOLD_`` set, so that large blocks go back to the system at once)
when that matters.
"""
import os
from typing import Callable, Dict, Optional

from .paths import REPO_ROOT

MIB = 2 ** 20


def _status_bytes(key: str) -> int:
    """A ``/proc/self/status`` value (kB there) in bytes."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith(key + ':'):
                    return int(line.split()[1]) * 1024
    except OSError as exc:
        raise RuntimeError(f'/proc/self/status: {exc} (the CPU memory probe needs Linux)')
    raise RuntimeError(f'{key} not in /proc/self/status (the CPU memory probe needs Linux)')


def resident_bytes() -> int:
    """This process's resident set now (``VmRSS``)."""
    return _status_bytes('VmRSS')


def _reset_cpu_peak() -> None:
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')   # VmHWM back to the current resident set
    except OSError as exc:
        raise RuntimeError(f'/proc/self/clear_refs: {exc} (the CPU memory probe resets '
                           'the peak resident set there; Linux only)')


class PeakMemory:
    """Context manager: ``peak`` and ``before`` (bytes) of the block on ``device``;
    ``growth`` = ``peak - before``; ``kind`` names what was measured."""

    def __init__(self, device='cpu'):
        import torch
        self.device = torch.device(device)
        self.before = self.peak = 0
        self.kind = ('cuda max allocated' if self.device.type == 'cuda'
                     else 'peak RSS growth')

    def _sync(self) -> None:
        if self.device.type == 'cuda':
            import torch
            torch.cuda.synchronize(self.device)

    def __enter__(self) -> 'PeakMemory':
        if self.device.type == 'cuda':
            import torch
            self._sync()
            torch.cuda.reset_peak_memory_stats(self.device)
            self.before = torch.cuda.memory_allocated(self.device)
        else:
            _reset_cpu_peak()
            self.before = resident_bytes()
        return self

    def __exit__(self, *exc) -> None:
        if self.device.type == 'cuda':
            import torch
            self._sync()
            self.peak = torch.cuda.max_memory_allocated(self.device)
        else:
            self.peak = max(_status_bytes('VmHWM'), self.before)

    @property
    def growth(self) -> int:
        return self.peak - self.before


def peak_memory(fn: Callable[[], object], device='cpu') -> Dict[str, float]:
    """Peak memory of one call of ``fn``: ``peak_mib``, ``growth_mib`` and ``kind``."""
    with PeakMemory(device) as probe:
        fn()
    return dict(peak_mib=probe.peak / MIB, growth_mib=probe.growth / MIB, kind=probe.kind)


def fresh_process_env(threads: Optional[int] = None) -> Dict[str, str]:
    """The environment of a measuring child process: this checkout first on the Python path,
    blocks of 64 KiB and more returned to the system as soon as they are freed
    (``MALLOC_MMAP_THRESHOLD_``), and ``OMP_NUM_THREADS`` when ``threads`` is given."""
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_='65536')
    env['PYTHONPATH'] = REPO_ROOT + os.pathsep + env.get('PYTHONPATH', '')
    if threads:
        env['OMP_NUM_THREADS'] = str(threads)
    return env
