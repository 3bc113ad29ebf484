"""tools/test.py --out: metrics, the papers' table and the EF plots from a checkpoint."""
import os.path as osp

from echoseg import cli
from echoseg.evaluation.results_io import load_results
from echoseg.testing import write_tiny_config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASELINE = osp.join(ROOT, 'configs', 'baselines', 'fcn_r18_synthetic.py')


def test_test_tool_writes_table_and_plots(tmp_path, capsys):
    cfg = write_tiny_config(tmp_path, BASELINE)
    work = str(tmp_path / 'work')
    cli.train_main([cfg, '--work-dir', work, '--cfg-options', 'train_cfg.max_epochs=1'])
    out = tmp_path / 'results'
    cli.test_main([cfg, osp.join(work, 'epoch_1.pth'), '--work-dir', work, '--out', str(out)])
    printed = capsys.readouterr().out
    table = (out / 'results_table.md').read_text()
    assert table.splitlines()[0].startswith('| method | mDice')
    assert table in printed and 'mDice' in printed
    results = load_results(str(out / 'echo_metric_results.json'))
    assert len(results['clips']) == 4 and len(results['ef_cases']) == 4
    for q in ('EF', 'EDV', 'ESV'):
        for kind in ('regression', 'bland_altman'):
            png = out / f'tiny_{q}_{kind}.png'
            assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
