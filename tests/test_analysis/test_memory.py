"""echoseg.analysis.memory: the peak-memory probe sees what a block allocates, however
briefly, against the known size of the allocation."""
import os
import subprocess
import sys

import pytest
import torch

from echoseg.analysis import memory

MIB = 2 ** 20
#: Linux updates a process's resident-set counters in batches (up to 64 pages per thread
#: late), so a reading can fall short of what was touched by a few hundred KiB
SLACK = 1 * MIB


def _in_fresh_process(code):
    # inside the suite, memory that earlier tests freed is reused without counting
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          timeout=300, env=dict(os.environ, MALLOC_MMAP_THRESHOLD_='65536'))
    assert proc.returncode == 0, proc.stderr[-2000:]
    return [float(x) for x in proc.stdout.split()]


def test_peak_counts_a_block_freed_before_the_end():
    """64 MiB touched then freed inside the block: the peak rises by at least 64 MiB
    although the resident set is back where it was."""
    growth, after = _in_fresh_process(
        'import numpy as np\n'
        'from echoseg.analysis.memory import PeakMemory, resident_bytes\n'
        'with PeakMemory("cpu") as probe:\n'
        '    block = np.ones(64 * 2 ** 20 // 8)\n'
        '    del block\n'
        'print(probe.growth, resident_bytes() - probe.before)\n')
    assert growth >= 64 * MIB - SLACK
    assert after < 16 * MIB


def test_peak_memory_reports_mib_and_a_second_probe_starts_afresh():
    """The first block touches 96 MiB, the second 32 MiB: each probe sees its own."""
    first, second = _in_fresh_process(
        'import numpy as np\n'
        'from echoseg.analysis.memory import peak_memory\n'
        'def touch(mib):\n'
        '    np.ones(mib * 2 ** 20 // 8)\n'
        'for mib in (96, 32):\n'
        '    print(peak_memory(lambda: touch(mib), "cpu")["growth_mib"])\n')
    assert 96 - SLACK / MIB <= first < 96 + 16
    assert 32 - SLACK / MIB <= second < 32 + 16


def test_kind_names_the_device():
    assert memory.PeakMemory('cpu').kind == 'peak RSS growth'
    assert memory.PeakMemory('cuda').kind == 'cuda max allocated'


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a GPU')
def test_cuda_peak_counts_an_allocation():
    with memory.PeakMemory('cuda') as probe:
        block = torch.empty(16 * MIB, dtype=torch.uint8, device='cuda')
        del block
    assert probe.growth >= 16 * MIB
