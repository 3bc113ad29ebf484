"""echoseg.analysis.row_diagnosis (tools/analysis/row_diagnosis.py): per-video averages
over seeds, shares of the Dice gap against a hand computation, each failure flag on a
video built to raise it (and only it), both record formats, and bad input."""
import json

import pytest

from echoseg.analysis import row_diagnosis as tool


def _video(vid, ed=0.9, es=0.9, ed_raw=None, es_raw=None, area=(1.0, 1.0), ef=50.0,
           overlap=(0.0, 0.0)):
    dice = (ed + es) / 2
    return dict(video_id=vid, dice=dice, dice_ed=ed, dice_es=es,
                dice_ed_raw=ed if ed_raw is None else ed_raw,
                dice_es_raw=es if es_raw is None else es_raw,
                ef_filelist=55.0, ef_masks=ef, ef_tracings=54.0,
                components=dict(
                    largest=dict(area_ratio_ed=area[0], area_ratio_es=area[1], dice_ed=ed,
                                 dice_es=es),
                    overlap=dict(area_ratio_ed=area[0], area_ratio_es=area[1],
                                 dice_ed=ed + overlap[0], dice_es=es + overlap[1])))


def _record(path, name, runs):
    path.write_text(json.dumps(dict(row=name, runs={
        f'all_seed{s}_fold{i}': dict(name=f'all_seed{s}_fold{i}', seed=s, videos=videos)
        for i, (s, videos) in enumerate(runs)})))
    return str(path)


@pytest.fixture
def records(tmp_path):
    row = _record(tmp_path / 'row.json', 'Row', [
        (0, [_video('A', ed=0.8, es=0.7), _video('B', ed=0.1, es=0.9)]),
        (1, [_video('A', ed=0.9, es=0.8), _video('B', ed=0.3, es=0.9)]),
        (0, [_video('C', ed=0.9, es=0.7, es_raw=0.6, area=(0.8, 1.1), ef=40.0,
                    overlap=(0.0, 0.1))])])
    base = _record(tmp_path / 'base.json', 'Base', [
        (0, [_video('A'), _video('B')]), (1, [_video('A', ed=0.8), _video('B')]),
        (0, [_video('C'), _video('D')])])
    return row, base


def test_shares_sum_to_the_gap_of_the_video_means(records):
    result = tool.diagnose(tool.load_record(records[0]), tool.load_record(records[1]))
    # by hand: per video mean over seeds of (ED + ES) / 2
    row = {'A': (0.75 + 0.85) / 2, 'B': (0.5 + 0.6) / 2, 'C': 0.8}
    base = {'A': (0.9 + 0.85) / 2, 'B': 0.9, 'C': 0.9}
    gap = sum(row[v] - base[v] for v in row) / 3
    assert result['gap'] == pytest.approx(gap)
    assert [v['video_id'] for v in result['videos']] == ['B', 'C', 'A']   # worst first
    assert result['videos'][0]['share'] == pytest.approx((row['B'] - base['B']) / 3)
    assert result['only_baseline'] == ['D'] and result['only_row'] == []
    assert result['videos'][0]['row']['dice_ed'] == pytest.approx(0.2)


def test_only_the_readings_both_records_hold_are_compared(tmp_path):
    # the row has seed 0 only (a row still running): the baseline's seed 1 is left out
    row = _record(tmp_path / 'r.json', 'Row', [(0, [_video('A', ed=0.8, es=0.8)])])
    base = _record(tmp_path / 'b.json', 'Base', [(0, [_video('A', ed=0.7, es=0.7)]),
                                                 (1, [_video('A', ed=0.1, es=0.1)])])
    result = tool.diagnose(tool.load_record(row), tool.load_record(base))
    assert result['gap'] == pytest.approx(0.1)
    assert result['videos'][0]['baseline']['seeds'] == 1


def test_each_flag_on_its_own_video(records):
    result = tool.diagnose(tool.load_record(records[0]), tool.load_record(records[1]))
    by = {v['video_id']: v for v in result['videos']}
    assert by['B']['flags_row'] == ['missed']          # ED Dice 0.2 over its two seeds
    assert set(by['C']['flags_row']) == {'second blob', 'wrong piece kept',
                                         'ES not contracted', 'ED small'}
    assert by['A']['flags_row'] == [] and by['A']['flags_baseline'] == []
    assert by['C']['row']['ef_masks_err'] == pytest.approx(-15.0)
    assert by['C']['row']['ef_tracings_err'] == pytest.approx(-1.0)


def test_work_root_records_and_the_cli(records, tmp_path, capsys):
    data = json.loads(open(records[1]).read())
    work = tmp_path / 'cross_validation.json'
    work.write_text(json.dumps(dict(settings={}, runs=list(data['runs'].values()))))
    out = tmp_path / 'd.md'
    result = tool.main([records[0], '--baseline', str(work), '--out', str(out)])
    assert result['baseline'] == 'cross_validation'
    text = out.read_text()
    assert text == capsys.readouterr().out
    assert '| B | ' in text and 'missed' in text and 'only in the baseline (left out): D' in text


def test_bad_input_is_named(tmp_path, records, capsys):
    empty = tmp_path / 'empty.json'
    empty.write_text(json.dumps(dict(runs={})))
    with pytest.raises(SystemExit):
        tool.main([str(empty), '--baseline', records[1]])
    assert f'{empty}: no runs' in capsys.readouterr().err
    other = _record(tmp_path / 'other.json', 'Other', [(0, [_video('Z')])])
    with pytest.raises(SystemExit):
        tool.main([other, '--baseline', records[1]])
    assert 'no held-out video in common' in capsys.readouterr().err
    broken = tmp_path / 'broken.json'
    broken.write_text('{"runs": ')
    with pytest.raises(SystemExit):
        tool.main([str(broken), '--baseline', records[1]])
    assert f'{broken}: not JSON' in capsys.readouterr().err
