"""echoseg.analysis.phase_offsets (tools/analysis/phase_offsets.py): signed ED / ES
offsets, area gains and EFs of held-out readings, against hand computations, from an
archive file and from a cross-validation work directory."""
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest

from echoseg.analysis import phase_offsets as po

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _readout():
    t = np.arange(40)
    volumes = 100.0 - 40.0 * (1 - np.cos(2 * np.pi * (t - 10) / 40.0)) / 2   # max 10, min 30
    areas = volumes ** (2.0 / 3.0)
    return dict(fps=50.0, num_frames=40, areas=areas.tolist(), volumes=volumes.tolist(),
                ed_frames=[12], es_frames=[29],
                beats=[dict(ed_frame=12, es_frame=29, ef=_ef(volumes[12], volumes[29]))],
                ef_mean=_ef(volumes[12], volumes[29]), flags=[], units='px')


def _ef(edv, esv):
    return (edv - esv) / edv * 100.0


def _video(vid='0XA', ef_ref=45.0):
    return dict(video_id=vid, ed_frame=10, es_frame=30, ef_filelist=ef_ref,
                readout=_readout())


def test_one_reading_against_a_hand_computation():
    row = po.reading_offsets(_video())
    ro = _readout()
    a, v = np.asarray(ro['areas']), np.asarray(ro['volumes'])
    assert (row['ed_offset'], row['es_offset']) == (2, -1)
    assert row['ed_offset_ms'] == pytest.approx(40.0) and row['es_offset_ms'] == \
        pytest.approx(-20.0)
    assert row['ed_area_gain'] == pytest.approx((a[12] - a[10]) / a[12])
    assert row['es_area_gain'] == pytest.approx(-(a[29] - a[30]) / a[29])
    assert row['ed_area_gain'] < 0 < -row['es_area_gain']    # labelled frames are the extremes
    assert row['ef_labelled_frames'] == pytest.approx(_ef(v[10], v[30]))   # 40 %
    assert row['ef_labelled_frames_error'] == pytest.approx(_ef(v[10], v[30]) - 45.0)
    assert row['ef_nearest_beat_error'] == pytest.approx(_ef(v[12], v[29]) - 45.0)
    assert row['ef_video_error'] == row['ef_nearest_beat_error']
    # smoothed: a quadratic over period / 4 frames keeps a smooth curve's values
    from scipy.signal import savgol_filter
    sm = savgol_filter(v, 11, 2, mode='interp')     # period 40 -> window 11
    sm5 = savgol_filter(v, 5, 2, mode='interp')     # no period in the read-out: window 5
    assert row['ef_video_smoothed'] == pytest.approx(_ef(sm5[12], sm5[29]))
    video = _video()
    video['readout']['period_frames'] = 40.0
    row = po.reading_offsets(video)
    assert row['ef_video_smoothed'] == pytest.approx(_ef(sm[12], sm[29]))
    # no read-out: no reading; no detected ES: its offset is None, the rest stays
    assert po.reading_offsets(dict(_video(), readout=None)) is None
    video = _video()
    video['readout']['es_frames'] = []
    row = po.reading_offsets(video)
    assert row['es_offset'] is None and row['ed_offset'] == 2


def test_summary_and_the_command_on_an_archive_and_a_work_dir(tmp_path):
    runs = {'all_seed0_fold0': dict(seed=0, videos=[_video('0XA', 45.0)]),
            'all_seed1_fold0': dict(seed=1, videos=[_video('0XA', 35.0)])}
    archive = tmp_path / 'row-abc.json'
    archive.write_text(json.dumps(dict(row='R', runs=runs)))
    # the same two runs as a cross-validation work dir
    work = tmp_path / 'cv'
    for name, record in runs.items():
        os.makedirs(work / name / 'videos')
        video = dict(record['videos'][0])
        (work / name / 'videos' / '0XA.json').write_text(json.dumps(video.pop('readout')))
        (work / name / 'run.json').write_text(json.dumps(dict(record, videos=[video])))
    for source in (archive, work):
        out = po.main([str(source), '--json', str(tmp_path / 'out.json')])
        assert len(out['readings']) == 2
        s = out['summary']
        assert s['ed_offset']['median'] == 2 and s['es_offset']['mean'] == -1
        v = np.asarray(_readout()['volumes'])
        lab = _ef(v[10], v[30])
        assert s['ef_labelled_frames_error']['mean'] == pytest.approx(lab - 40.0)
        assert s['ef_labelled_frames_error']['mean_abs'] == pytest.approx(
            (abs(lab - 45.0) + abs(lab - 35.0)) / 2)
        assert json.loads((tmp_path / 'out.json').read_text())['summary']['ed_offset'][
            'n'] == 2
    proc = subprocess.run([sys.executable, 'tools/analysis/phase_offsets.py', str(archive)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert '| 0XA | 0 | 10 / 30 | +2 | -1 |' in proc.stdout
    assert 'ED +2.0 / +2.0 frames, ES -1.0 / -1.0 frames' in proc.stdout
    bad = subprocess.run([sys.executable, 'tools/analysis/phase_offsets.py',
                          str(tmp_path / 'none.json')], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert bad.returncode == 2 and 'none.json: no such file or directory' in bad.stderr
