"""tools/analysis/benchmark_mssnet.py prints figures (no timing is asserted): the scan
child reports a time and a memory, and the authors' file must stay outside the repo."""
import json
import os.path as osp

import pytest

from echoseg.testing import load_tool

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_scan_child_reports_seconds_and_memory(capsys):
    tool = load_tool('analysis/benchmark_mssnet.py')
    for mode in ('forward', 'train', 'loop'):
        tool.main(['scan-child', '--length', '40', '--mode', mode, '--channels', '4',
                   '--state', '2', '--repeats', '1'])
        row = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert row['seconds'] > 0 and row['peak_mib'] >= 0


def test_reference_inside_the_repository_is_refused():
    tool = load_tool('analysis/benchmark_mssnet.py')
    with pytest.raises(SystemExit, match='outside the repository'):
        tool.main(['ssg', '--reference-dir', osp.join(ROOT, 'tools')])
