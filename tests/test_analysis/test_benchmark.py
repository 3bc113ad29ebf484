"""echoseg.analysis.benchmark (tools/benchmarks/benchmark.py) on a tiny model: the table,
JSON and memory probes (speed itself is printed by the tool, never asserted)."""
import json
import os.path as osp

import pytest
import torch

from echoseg import testing
from echoseg.analysis import benchmark as tool

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASELINE = osp.join(ROOT, 'configs', 'baselines', 'fcn_r18_synthetic.py')


def test_default_configs_are_the_method_configs():
    configs = [osp.relpath(c, ROOT) for c in tool.default_configs(ROOT)]
    assert 'configs/echoforge/r50_camus.py' in configs
    assert 'configs/realtime/mobilenetv2_causal_synthetic.py' in configs
    assert not any(p in c for c in configs for p in ('_base_', '/mix/', '/variants/'))


def test_matmul_rate_is_n3_multiply_adds_over_the_best_time(monkeypatch):
    ticks = iter([0.0, 0.4, 1.0, 1.25, 2.0, 2.5])   # calls of 0.4, 0.25 and 0.5 s
    monkeypatch.setattr(tool.time, 'perf_counter', lambda: next(ticks))
    rate = tool.matmul_gmacs(torch.device('cpu'), n=64, repeats=3)
    assert rate == pytest.approx(64 ** 3 / 0.25 / 1e9)


def test_model_table_and_json(tmp_path, capsys):
    config = testing.write_tiny_config(str(tmp_path), BASELINE, size=32, num_frames=3)
    out = tmp_path / 'bench.json'
    result = tool.main([config, config, '--shape', '32', '32', '--frames', '3', '--runs', '2',
                        '--warmup', '1', '--threads', '1', '--json', str(out)])
    printed = capsys.readouterr().out
    assert len(result['rows']) == 1  # the same model, size and clip length: measured once
    row = result['rows'][0]
    assert row['same_as'] == [osp.relpath(config, ROOT)]
    assert row['frames'] == 3 and row['shape'] == [32, 32]
    assert row['fps'] == pytest.approx(3 / (row['ms_clip'] / 1e3))
    assert row['macs_clip'] > 0 and row['params'] > 0 and 'flops_clip' not in row
    assert row['memory']['kind'] == 'peak RSS growth (fresh process)'
    assert '| config | input |' in printed and 'torch.mm' in printed
    assert 'GMACs / clip' in printed and 'GMAC/s' in printed and 'FLOP' not in printed
    saved = json.loads(out.read_text())
    assert saved['matmul_gmacs'] > 0 and saved['load_before'] is not None


def test_memory_probe_runs_in_a_fresh_process_and_grows_with_the_input(tmp_path):
    """In one process a second model reuses memory the first freed and reads 0; each probe
    has its own interpreter. At 512 x 512 the (3, 2, 512, 512) float32 logits upsampled to
    the input alone are 6 MiB more than at 32 x 32."""
    config = testing.write_tiny_config(str(tmp_path), BASELINE, size=32, num_frames=3)
    small = tool.memory_in_fresh_process(config, (32, 32), 3, threads=1)
    large = tool.memory_in_fresh_process(config, (512, 512), 3, threads=1)
    assert large['kind'] == 'peak RSS growth (fresh process)'
    assert large['growth_mib'] - small['growth_mib'] >= 3 * 2 * 512 * 512 * 4 / 2 ** 20
    assert large['peak_mib'] >= large['growth_mib'] > 0


def test_video_mode_runs_the_whole_video_api(tmp_path):
    config = testing.write_tiny_config(str(tmp_path), BASELINE, size=32, num_frames=3)
    result = tool.main([config, '--video-frames', '7', '20', '--video-size', '32', '32',
                        '--video-repeats', '1', '--threads', '1'])
    rows = result['video_rows']
    assert [r['num_frames'] for r in rows] == [7, 20]
    assert rows[1]['stride'] == 3 and rows[1]['num_windows'] == 7  # per-frame: T
    assert all(r['fps_median'] > 0 and r['peak_rss_mib'] > 0 for r in rows)
