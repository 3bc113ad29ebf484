"""echoseg.analysis.phase_bias (tools/analysis/phase_bias.py): phases, ratios, summaries,
the cross-validation and model readers, and the generator's label check."""
import math
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch

from echoseg.analysis import phase_bias as pb
from echoseg.evaluation.functional import ejection_fraction, simpson_volume
from echoseg.structures import EchoDataSample

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def box(h, w, top, left, height, width):
    m = np.zeros((h, w), bool)
    m[top:top + height, left:left + width] = True
    return m


@pytest.mark.parametrize('ed,es', [(2, 7), (7, 2)])
def test_frame_phase_either_order(ed, es):
    phases = [pb.frame_phase(i, ed, es) for i in range(10)]
    assert phases[ed] == 'ED' and phases[es] == 'ES'
    assert [i for i, p in enumerate(phases) if p == 'middle'] == [3, 4, 5, 6]
    assert phases[0] == phases[9] == 'other'
    assert pb.frame_phase(4, None, None) == 'other'
    assert pb.frame_phase(4, ed, es, ed_first=ed < es) == (
        'systole' if ed < es else 'diastole')


def test_frame_row_areas_volumes_and_ratios():
    ref = box(40, 30, 5, 10, 30, 10)
    pred = box(40, 30, 5, 11, 30, 8)
    row = pb.frame_row('v', 3, 'ED', pred, ref, spacing=(0.5, 2.0))
    assert row['ref_area'] == pytest.approx(300 * 1.0)
    assert row['area_ratio'] == pytest.approx(240 / 300)
    assert row['ref_volume'] == pytest.approx(simpson_volume(ref, (0.5, 2.0)))
    assert row['volume_ratio'] == pytest.approx(
        simpson_volume(pred, (0.5, 2.0)) / simpson_volume(ref, (0.5, 2.0)))
    empty = pb.frame_row('v', 0, 'ES', pred, np.zeros_like(ref))
    assert math.isnan(empty['area_ratio']) and empty['ref_volume'] == 0.0


def test_summary_matches_numpy_and_ef():
    rows = [dict(video_id='a', phase='ED', area_ratio=0.9, volume_ratio=0.8,
                 pred_volume=80.0, ref_volume=100.0),
            dict(video_id='a', phase='ES', area_ratio=1.2, volume_ratio=1.5,
                 pred_volume=60.0, ref_volume=40.0),
            dict(video_id='b', phase='ED', area_ratio=1.0, volume_ratio=1.1,
                 pred_volume=110.0, ref_volume=100.0),
            dict(video_id='b', phase='ES', area_ratio=1.0, volume_ratio=float('nan'),
                 pred_volume=50.0, ref_volume=50.0),
            dict(video_id='b', phase='systole', area_ratio=0.7, volume_ratio=0.6,
                 pred_volume=1.0, ref_volume=1.0),
            dict(video_id='b', phase='diastole', area_ratio=0.5, volume_ratio=0.6,
                 pred_volume=1.0, ref_volume=1.0)]
    s = pb.summarise_rows(rows)
    assert s['ED']['area_ratio']['mean'] == pytest.approx(0.95)
    assert s['ED']['area_ratio']['sd'] == pytest.approx(np.std([0.9, 1.0], ddof=1))
    assert s['ES']['volume_ratio']['n'] == 1           # the NaN is left out
    assert s['systole']['area_ratio']['median'] == pytest.approx(0.7)
    assert s['middle']['area_ratio']['mean'] == pytest.approx(0.6)   # both halves
    assert 'other' not in s
    errors = [ejection_fraction(80, 60) - ejection_fraction(100, 40),
              ejection_fraction(110, 50) - ejection_fraction(100, 50)]
    assert s['EF']['n'] == 2
    assert s['EF']['bias'] == pytest.approx(np.mean(errors))
    assert s['EF']['mae'] == pytest.approx(np.mean(np.abs(errors)))
    text = pb.format_summary('t', s)
    assert 'ED' in text and 'MAE' in text


def test_cv_rows_read_every_run(tmp_path):
    ref_ed, ref_es = box(20, 20, 2, 5, 15, 10), box(20, 20, 4, 6, 11, 8)
    pred_ed, pred_es = box(20, 20, 3, 5, 14, 10), box(20, 20, 4, 6, 11, 9)
    for run in ('fold0_seed0', 'fold1_seed0'):
        (tmp_path / run).mkdir()
        np.savez_compressed(tmp_path / run / 'predictions.npz', **{
            'V1__pred': np.stack([pred_ed, pred_es]).astype(np.uint8),
            'V1__gt': np.stack([ref_ed, ref_es]).astype(np.uint8),
            'V1__frames': np.array([10, 20])})
    rows = pb.cv_rows(str(tmp_path))
    assert [(r['video_id'], r['phase']) for r in rows] == [
        ('fold0_seed0/V1', 'ED'), ('fold0_seed0/V1', 'ES'),
        ('fold1_seed0/V1', 'ED'), ('fold1_seed0/V1', 'ES')]
    assert rows[0]['area_ratio'] == pytest.approx(140 / 150)
    assert rows[1]['area_ratio'] == pytest.approx(99 / 88)
    with pytest.raises(FileNotFoundError, match='predictions.npz'):
        pb.cv_rows(str(tmp_path / 'fold0_seed0'))


class _FakeModel:
    """Predicts the reference, grown by ``rows_off`` rows towards the base, at the
    network's resolution (the reference's divided by ``stride``), as a segmentor's
    test_step."""

    def __init__(self, rows_off, stride):
        self.rows_off, self.stride = rows_off, stride

    def eval(self):
        return self

    def test_step(self, batch):
        out = []
        for sample in batch['data_samples']:
            pred = sample.ori_gt_masks == 1
            if self.rows_off > 0:
                pred = pred | torch.roll(pred, self.rows_off, dims=1)
            s = sample.clone()   # a segmentor's output keeps the sample's fields
            s.pred_masks = pred[:, ::self.stride, ::self.stride].long()
            out.append(s)
        return out


def _dataset(ed=1, es=3, times=(10, 11, 12, 13, 14)):
    ref = np.zeros((5, 16, 16), np.uint8)
    for t, h in enumerate((10, 9, 8, 7, 6)):
        ref[t, 2:2 + h, 4:12] = 1
    sample = EchoDataSample(metainfo=dict(video_id='v0', ed_index=ed, es_index=es,
                                          ori_spacing=(1.0, 1.0), frame_indices=list(times)))
    sample.ori_gt_masks = torch.from_numpy(ref).long()
    return [dict(inputs=torch.zeros(5, 1, 8, 8), data_samples=sample)], ref


def test_model_rows_perfect_and_grown():
    data, ref = _dataset()
    rows = pb.model_rows(_FakeModel(0, 1), data)
    assert [r['phase'] for r in rows] == ['other', 'ED', 'systole', 'ES', 'other']
    assert all(r['area_ratio'] == pytest.approx(1.0) for r in rows)
    assert all(r['volume_ratio'] == pytest.approx(1.0) for r in rows)
    assert pb.summarise_rows(rows)['EF']['mae'] == pytest.approx(0.0)
    # ES before ED in time: the middle frames are diastolic
    data_back, _ = _dataset(times=(14, 13, 12, 11, 10))
    assert pb.model_rows(_FakeModel(0, 1), data_back)[2]['phase'] == 'diastole'
    rows = pb.model_rows(_FakeModel(2, 2), data)
    # nearest upsampling of the half-size prediction, counted independently here
    for r in rows:
        t = r['frame']
        grown = (ref[t] == 1) | np.roll(ref[t] == 1, 2, axis=0)
        up = np.repeat(np.repeat(grown[::2, ::2], 2, 0), 2, 1)
        assert r['area_ratio'] == pytest.approx(up.sum() / ref[t].sum())
        assert r['area_ratio'] > 1.0


def test_rendered_cavity_is_the_dark_pool():
    yy, xx = np.mgrid[:40, :40]
    r = np.hypot(yy - 20, xx - 20)
    gray = np.where(r < 10, 5.0, 100.0)
    labels = np.where(r < 12, 1, np.where(r < 16, 2, 0)).astype(np.uint8)
    gray[20, 5:9] = 100.0   # a bright speck outside the pool changes nothing
    cav = pb.rendered_cavity(gray, labels, labels > 0)
    assert cav['blood'] == 5.0 and cav['threshold'] == pytest.approx(52.5)
    assert (cav['mask'] == (r < 10)).all()
    dark_out = gray.copy()
    dark_out[r >= 16] = 0.0   # dark, but outside the territory
    assert (pb.rendered_cavity(dark_out, labels, labels > 0)['mask'] == (r < 10)).all()
    assert not pb.rendered_cavity(np.full_like(gray, 100.0), labels,
                                  labels > 0)['mask'].any()


def test_noise_free_renderer_matches_the_generator():
    from echoseg.datasets.synthetic import SyntheticEchoGenerator
    gen = SyntheticEchoGenerator(64, difficulty='medium')
    plan = gen.plan((7, 1))
    video, labels = gen.render(plan)
    render = pb.NoiseFreeRenderer(gen, plan)
    for k in (plan.ed_frame, plan.es_frame):
        f = render.frame(k)
        assert (f['labels'] == labels[k]).all()
        # region means of the speckle-free image follow the video's (speckle averages out)
        for lab in (0, 1, 2):
            m = labels[k] == lab
            assert abs(f['gray'][m].mean() - video[k][m].mean()) < 6.0
        assert f['gray'][labels[k] == 1].mean() < f['gray'][labels[k] == 2].mean()
    rows = pb.generator_rows(gen, [(7, 1)], frames='ed_es')
    assert {(r['phase'], r['frame']) for r in rows} == {('ED', plan.ed_frame),
                                                         ('ES', plan.es_frame)}
    for r in rows:
        assert 0.7 < r['area_ratio'] < 1.4
        assert r['label_area'] == pytest.approx(
            (labels[r['frame']] == 1).sum() * plan.spacing[0] * plan.spacing[1])
        # the apical haze can hide several mm of the apex; the base is sharp
        assert abs(r['base_mm']) < 4.0 and abs(r['apex_mm']) < 15.0


def test_cli_generator_mode(tmp_path):
    out = tmp_path / 'gen.json'
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'analysis', 'phase_bias.py'), 'generator',
         '--num-videos', '1', '--image-size', '48', '--frames', 'ed_es', '--out', str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert 'label/rendered area' in proc.stdout and out.exists()
    bad = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'analysis', 'phase_bias.py'), 'cv',
         str(tmp_path)], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert bad.returncode != 0 and 'predictions.npz' in bad.stderr


def test_ef_line_states_its_meaning():
    text = pb.ef_line(22.44, -22.4, 64, 'synthetic test clips')
    first, second = text.split('\n')
    assert first == 'EF on synthetic test clips: MAE 22.4 points, bias -22.4 points over 64 clips'
    assert 'MAE' in second and 'bias' in second and '5-7' in second
