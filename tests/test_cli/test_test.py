"""tools/test.py (echoseg.cli.test): a corrupt checkpoint is a clear error."""
import os.path as osp
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASELINE = osp.join(ROOT, 'configs', 'baselines', 'fcn_r18_synthetic.py')


def test_corrupt_checkpoint(tmp_path):
    bad = tmp_path / 'corrupt.pth'
    bad.write_bytes(b'PK\x03\x04 not really a zip')
    proc = subprocess.run([sys.executable, 'tools/test.py', BASELINE, str(bad), '--work-dir',
                           str(tmp_path / 'w')], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 2
    assert 'corrupt.pth: not a readable PyTorch checkpoint' in proc.stderr
