"""echoseg.analysis.tracing_ef (tools/analysis/tracing_ef.py): the loader's rasterisation at
scale 1, the outline's extra area shrinking on finer grids, and the EF of elliptic
tracings against the ellipsoid's."""
import json

import numpy as np
import pytest

from echoseg.analysis import tracing_ef as tool
from echoseg.datasets.echonet import polygon_area, read_tracings, tracing_polygon
from echoseg.testing import write_echonet_folder

# write_echonet_folder's LV: an ellipse of semi-axes 13 (vertical) x 9 px at ED and 9 x 6
# at ES; Simpson's disks of an ellipse sum to the prolate ellipsoid 4/3 pi a b^2
ELLIPSOID_EF = 100 * (1 - (9 * 6 ** 2) / (13 * 9 ** 2))


@pytest.fixture(scope='module')
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp('tracing_ef') / 'echonet'
    masks = write_echonet_folder(str(root), [('0XTE0001', 12, 2, 8, ELLIPSOID_EF),
                                             ('0XTE0002', 12, 9, 3, ELLIPSOID_EF + 4.0)])
    return str(root), masks


def test_scale_one_is_the_loaders_mask(folder):
    root, masks = folder
    traced = read_tracings(f'{root}/VolumeTracings.csv')
    for stem, frames in traced.items():
        polys = sorted((tracing_polygon(np.asarray(rows)) for _, rows in frames.values()),
                       key=polygon_area, reverse=True)
        for phase, poly in zip(('ED', 'ES'), polys):
            np.testing.assert_array_equal(tool.rasterise(poly, (40, 40), 1),
                                          masks[stem][phase])
        fine = tool.rasterise(polys[0], (40, 40), 4)
        assert fine.shape == (160, 160)
        assert fine.sum() / 16 == pytest.approx(polygon_area(polys[0]), rel=0.03)


def test_ef_and_area_by_grid(folder, capsys):
    root, _ = folder
    result = tool.main(['--data-root', root, '--scales', '1', '8'])
    one, eight = result['summary']['1'], result['summary']['8']
    assert one['videos'] == eight['videos'] == 2
    # the outline's pixels: more area at 1 x, a larger share of the smaller ES cavity
    assert one['area_ratio_es'] > one['area_ratio_ed'] > eight['area_ratio_ed']
    assert abs(eight['area_ratio_ed'] - 1) < 0.02 and abs(eight['area_ratio_es'] - 1) < 0.03
    # finer grid: the traced ellipses read the ellipsoid's EF (the second video's
    # FileList.csv EF is 4 points higher, so its error is 4 lower)
    first, second = result['videos']
    assert first['scales']['8']['ef'] == pytest.approx(ELLIPSOID_EF, abs=2.0)
    assert second['scales']['8']['error'] == pytest.approx(
        first['scales']['8']['error'] - 4.0, abs=1e-6)
    errors = [v['scales']['1']['error'] for v in result['videos']]
    assert one['bias'] == pytest.approx(np.mean(errors))
    assert one['mae'] == pytest.approx(np.mean(np.abs(errors)))
    table = capsys.readouterr().out
    assert '| 1 x | 2 |' in table and '| 8 x | 2 |' in table


def test_missing_files_are_named(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        tool.main(['--data-root', str(tmp_path)])
    assert exc.value.code == 2
    assert f'{tmp_path}/FileList.csv: file not found' in capsys.readouterr().err


def test_json_written(folder, tmp_path):
    root, _ = folder
    out = tmp_path / 'r.json'
    tool.main(['--data-root', root, '--scales', '2', '--out', str(out)])
    saved = json.loads(out.read_text())
    assert [v['video_id'] for v in saved['videos']] == ['0XTE0001', '0XTE0002']
    assert list(saved['summary']) == ['2']


def _copy(folder, tmp_path):
    import shutil
    root = tmp_path / 'copy'
    shutil.copytree(folder[0], root)
    return root


def test_bad_rows_name_the_file_and_line(folder, tmp_path, capsys):
    root = _copy(folder, tmp_path)
    filelist = root / 'FileList.csv'
    text = filelist.read_text()
    filelist.write_text(text.replace(f'{ELLIPSOID_EF + 4.0}', 'n/a', 1))
    with pytest.raises(SystemExit):
        tool.main(['--data-root', str(root)])
    err = capsys.readouterr().err
    assert f'{filelist}: line 3 (0XTE0002)' in err and 'must be numbers' in err
    filelist.write_text(text)
    tracings = root / 'VolumeTracings.csv'
    lines = tracings.read_text().splitlines()
    cells = lines[5].split(',')
    cells[1] = 'x'
    tracings.write_text('\n'.join(lines[:5] + [','.join(cells)] + lines[6:]) + '\n')
    with pytest.raises(SystemExit):
        tool.main(['--data-root', str(root)])
    assert f'{tracings}: line 6 of 0XTE0001.avi has a non-numeric value' in \
        capsys.readouterr().err


def test_a_traced_video_without_a_filelist_row_is_left_out_and_listed(folder, tmp_path,
                                                                      capsys):
    root = _copy(folder, tmp_path)
    filelist = root / 'FileList.csv'
    filelist.write_text('\n'.join(line for line in filelist.read_text().splitlines()
                                  if not line.startswith('0XTE0002')) + '\n')
    result = tool.main(['--data-root', str(root), '--scales', '1'])
    assert [v['video_id'] for v in result['videos']] == ['0XTE0001']
    assert result['skipped'] == [dict(video_id='0XTE0002', reason='no FileList.csv row')]
    assert 'Left out: 1 traced video(s): 0XTE0002 (no FileList.csv row)' in \
        capsys.readouterr().out
