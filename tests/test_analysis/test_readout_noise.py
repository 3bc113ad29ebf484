"""echoseg.analysis.readout_noise (tools/analysis/readout_noise.py): on planned curves of
known truth, no noise reads every EF and event right, and noise pushes the frame
read-out's EF up while the smoothed one stays near the truth."""
import json
import os.path as osp
import subprocess
import sys

from echoseg.analysis import readout_noise as rn

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_noise_free_curves_are_read_exactly_and_noise_biases_only_the_frame_readout():
    curves = rn.planned_curves(12, 200, seed=3)
    assert all(c['volumes'].size == 200 and len(c['es_frames']) >= 3 for c in curves)
    clean = rn.measure(curves, 0.0)
    assert clean['frames']['beats'] >= 30
    assert abs(clean['frames']['bias']) < 0.3 and clean['ed_frames']['median'] == 0
    assert clean['ed_frames']['missed'] == 0 and clean['es_frames']['missed'] == 0
    noisy = rn.measure(curves, 0.04, seed=1)
    assert noisy['frames']['bias'] > 2.0
    assert abs(noisy['smoothed']['bias']) < 0.5 * noisy['frames']['bias']
    # an independent check of one video's frame read-out: EF of the generator's own
    # ED / ES volumes on the noise-free curve
    c = curves[0]
    v = c['volumes']
    ed, es = c['ed_frames'][0], next(f for f in c['es_frames'] if f > c['ed_frames'][0])
    assert abs((v[ed] - v[es]) / v[ed] * 100 - c['beat_ef'][es]) < 1.0


def test_command_prints_the_table_and_writes_json(tmp_path):
    out = tmp_path / 'r.json'
    proc = subprocess.run([sys.executable, 'tools/analysis/readout_noise.py', '--videos', '4',
                           '--noise', '0', '0.03', '--json', str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    assert [r['noise'] for r in data['rows']] == [0.0, 0.03]
    lines = proc.stdout.splitlines()
    assert len(lines) == 4 and lines[3].startswith('| 3.0 % |')
    bad = subprocess.run([sys.executable, 'tools/analysis/readout_noise.py', '--noise', '-1'],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and '--noise >= 0' in bad.stderr
