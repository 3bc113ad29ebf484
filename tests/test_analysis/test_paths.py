"""echoseg.analysis.paths: the repository and the shared samples the tools default to."""
import os.path as osp

from echoseg.analysis import paths

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_repo_root_is_this_checkout():
    assert paths.REPO_ROOT == ROOT
    assert osp.isfile(osp.join(paths.CONFIG_ROOT, 'baselines', 'fcn_r18_synthetic.py'))


def test_default_data_root(monkeypatch, tmp_path):
    monkeypatch.setenv('ECHOSEG_ECHODATA', str(tmp_path))
    assert paths.echodata_root() == str(tmp_path)
    assert paths.default_data_root() == osp.join(str(tmp_path), 'echonet_sample')
    # a relative one is read from the working directory now
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv('ECHOSEG_ECHODATA', osp.join('..', 'echo'))
    assert paths.echodata_root() == osp.join(osp.dirname(str(tmp_path)), 'echo')
    monkeypatch.delenv('ECHOSEG_ECHODATA')
    assert paths.default_data_root() == osp.join(osp.dirname(ROOT), 'shared', 'echodata',
                                                 'echonet_sample')


def test_shown_path(tmp_path):
    assert paths.shown_path(osp.join(ROOT, 'configs', 'x.py')) == osp.join('configs', 'x.py')
    assert paths.shown_path(str(tmp_path / 'x.py')) == str(tmp_path / 'x.py')
