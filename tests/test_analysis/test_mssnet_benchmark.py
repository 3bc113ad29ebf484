"""echoseg.analysis.mssnet_benchmark (tools/benchmarks/benchmark_mssnet.py) prints figures
(no timing is asserted): the scan child's memory against the size of what the scan must
hold, and the authors' file must stay outside the repository."""
import json
import os.path as osp
import subprocess
import sys

import pytest

from echoseg.analysis import mssnet_benchmark as tool
from echoseg.analysis.memory import fresh_process_env

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LENGTH, CHANNELS, STATE = 8192, 64, 16


def _scan_child(chunk_size, mode='forward'):
    cmd = [sys.executable, '-m', tool.__name__, 'scan-child', '--length', str(LENGTH),
           '--mode', mode, '--channels', str(CHANNELS), '--state', str(STATE),
           '--repeats', '1', '--chunk-size', str(chunk_size)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                          env=fresh_process_env(1))
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_scan_memory_holds_the_states_unless_chunked():
    """The scan over the whole sequence holds its (L, d_inner, N) float32 decay factors at
    once; in chunks of 256 tokens it never does (it holds about 12 MiB, most of it the
    first call's own working memory, whatever the length)."""
    states_mib = 4 * LENGTH * CHANNELS * STATE / 2 ** 20          # 32 MiB
    whole = _scan_child(0)
    chunked = _scan_child(256)
    assert whole['seconds'] > 0 and chunked['seconds'] > 0
    assert whole['peak_mib'] >= states_mib - 1   # the resident counters lag a little
    assert chunked['peak_mib'] < states_mib


def test_scan_child_in_process_reports_every_mode(capsys):
    for mode in ('forward', 'train', 'loop'):
        tool.main(['scan-child', '--length', '40', '--mode', mode, '--channels', '4',
                   '--state', '2', '--repeats', '1'])
        row = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert set(row) == {'seconds', 'peak_mib'} and row['seconds'] > 0


def test_reference_inside_the_repository_is_refused():
    with pytest.raises(SystemExit, match='outside the repository'):
        tool.main(['ssg', '--reference-dir', osp.join(ROOT, 'tools')])
