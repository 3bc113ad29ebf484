"""The bad-input corpus: every kind of malformed input the tools accept, generated here,
and what happens to each (docs/errors.md lists the same cases and messages).

Each case must end in a clear error naming the file and the problem, or, where the user
asked to skip (``--skip-invalid``, ``skip_invalid=True``), in a counted and reported skip;
never in a silent result and never in a partial output file. Run with ``-s`` to see the
table of the cases that ran and their outcomes (printed once the module's tests are done).
"""
import csv
import os
import os.path as osp

import numpy as np
import pytest
import torch

from echoseg.cli import infer as infer_tool
from echoseg import cli
from echoseg.utils.config import load_config
from echoseg.datasets import CAMUSDataset, EchoNetDynamicDataset
from echoseg.datasets.errors import EchoDataError
from echoseg.io import read_video, write_video
from echoseg.testing import tiny_segmentor_cfg, write_tiny_config
from echoseg.utils.checkpoint import CheckpointError
from echoseg.utils.config_check import ConfigError

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASELINE = osp.join(ROOT, 'configs', 'baselines', 'fcn_r18_synthetic.py')
OUTCOMES = []  # (case, outcome, message) for the table printed at the end


def _frames(n, h=32, w=32, seed=0):
    rng = np.random.default_rng(seed)
    return (40 + 150 * rng.random((n, h, w))).astype(np.uint8)


def _record(case, outcome, message):
    OUTCOMES.append((case, outcome, message))
    print(f'\n[{case}] {outcome}: {message}')


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope='module', autouse=True)
def corpus_table():
    """After the module's tests: the outcome of every case that ran, as one table
    (``pytest -s`` shows it). A report, not a test: it asserts nothing."""
    OUTCOMES.clear()
    yield
    if OUTCOMES:
        print('\n\nbad-input corpus: case | outcome | message')
        for case, outcome, message in OUTCOMES:
            print(f'  {case} | {outcome} | {message}')


@pytest.fixture(scope='module')
def model_files(tmp_path_factory):
    """A tiny config, a checkpoint of its model and one of another model."""
    folder = tmp_path_factory.mktemp('corpus_model')
    cfg_path = write_tiny_config(folder, BASELINE)
    from echoseg.apis.inference import init_model
    model = init_model(cfg_path, None)
    ckpt = str(folder / 'tiny.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), ckpt)
    from mmengine.registry import DefaultScope

    from echoseg.registry import MODELS
    with DefaultScope.overwrite_default_scope('echoseg'):
        other = MODELS.build(tiny_segmentor_cfg(num_classes=4))
    other_ckpt = str(folder / 'other_model.pth')
    torch.save(dict(state_dict=other.state_dict(), meta=dict()), other_ckpt)
    return dict(cfg_path=cfg_path, ckpt=ckpt, other_ckpt=other_ckpt)


def _infer(model_files, inputs, out_dir, capsys, *extra):
    code = infer_tool.main([model_files['cfg_path'], model_files['ckpt'], *map(str, inputs),
                            '--out-dir', str(out_dir), '--no-video', *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _assert_no_output_for(out_dir, stem):
    if not osp.isdir(out_dir):
        return
    left = [f for f in os.listdir(out_dir) if f.startswith(stem) or f.endswith('.partial')
            or f.startswith(f'.{stem}')]
    assert not left, f'partial output left behind: {left}'


# --------------------------------------------------------------------------- videos
def _truncated_avi(path):
    write_video(path, _frames(30, 64, 64), fps=25)
    data = open(path, 'rb').read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) * 6 // 10])


def _zero_frame_avi(path):
    import cv2
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), 25.0, (32, 32), True)
    writer.release()


def _unreadable_nifti(path):
    path.write_bytes(b'\x1f\x8b' + b'this is not a NIfTI file' * 10)


def _four_d_nifti(path):
    import SimpleITK as sitk
    volume = sitk.GetImageFromArray(_frames(4, 16, 16))  # (x, y, z) = (16, 16, 4)
    sitk.WriteImage(sitk.JoinSeries([volume] * 3), str(path))  # (16, 16, 4, 3)


def _mhd_without_raw(path):
    import SimpleITK as sitk
    sitk.WriteImage(sitk.GetImageFromArray(_frames(5)), str(path))
    os.remove(str(path)[:-4] + '.raw')


def _mhd_short_raw(path):
    import SimpleITK as sitk
    sitk.WriteImage(sitk.GetImageFromArray(_frames(5)), str(path))
    raw = str(path)[:-4] + '.raw'
    data = open(raw, 'rb').read()
    with open(raw, 'wb') as f:
        f.write(data[:len(data) // 3])


def _nan_volume(path):
    # MetaImage: ITK's NIfTI reader turns NaN into 0 before echoseg sees the values
    import SimpleITK as sitk
    arr = _frames(6).astype(np.float32)
    arr[2, 5:9, 5:9] = np.nan
    sitk.WriteImage(sitk.GetImageFromArray(arr), str(path))


def _constant_avi(path):
    write_video(path, np.full((12, 32, 32), 90, np.uint8), fps=25)


def _all_black_avi(path):
    write_video(path, np.zeros((12, 32, 32), np.uint8), fps=25)


VIDEO_CASES = [
    # case, file name, writer, expected words in the message
    ('truncated AVI', 'truncated.avi', _truncated_avi,
     ['truncated or corrupt video', 'header lists 30 frames']),
    ('zero-frame video', 'empty.avi', _zero_frame_avi, ['has zero', 'frames']),
    ('unreadable NIfTI', 'garbage.nii.gz', _unreadable_nifti,
     ['unreadable or corrupt image']),
    ('4-D NIfTI', 'fourd.nii.gz', _four_d_nifti,
     ['4-D image', 'expected a 2-D image or a 2-D sequence']),
    ('MHD whose .raw is missing', 'noraw.mhd', _mhd_without_raw,
     ['unreadable MetaImage: its data file noraw.raw is missing']),
    ('MHD whose .raw is short', 'shortraw.mhd', _mhd_short_raw,
     ['unreadable MetaImage: its data file shortraw.raw is short: 1706 bytes, the header '
      'needs 5120']),
    ('NaN frames', 'nan.mha', _nan_volume, ['NaN or infinite', 'frame(s) 2']),
    ('constant frames', 'constant.avi', _constant_avi, ['every frame is constant']),
    ('all-black frames', 'black.avi', _all_black_avi,
     ['every frame is constant', 'black']),
]


@pytest.mark.parametrize('case,name,writer,words', VIDEO_CASES,
                         ids=[c[0] for c in VIDEO_CASES])
def test_bad_video_through_infer(case, name, writer, words, model_files, tmp_path, capsys):
    bad = tmp_path / name
    writer(bad)
    out = tmp_path / 'out'
    code, _, err = _infer(model_files, [bad], out, capsys)
    assert code == 2
    message = err.strip().splitlines()[-1]
    assert message.startswith('error: ') and str(bad) in message
    for word in words:
        assert word in message, message
    _assert_no_output_for(out, name.split('.')[0])
    _record(case, 'error (tools/infer.py exit 2)', message[len('error: '):])
    with pytest.raises(EchoDataError):  # the datasets' reader says the same
        read_video(bad)


def test_skip_invalid_counts_and_reports(model_files, tmp_path, capsys):
    good, bad = tmp_path / 'good.avi', tmp_path / 'truncated.avi'
    write_video(good, _frames(12), fps=25)
    _truncated_avi(bad)
    out = tmp_path / 'out'
    code, stdout, err = _infer(model_files, [good, bad], out, capsys, '--skip-invalid')
    assert code == 0
    assert '1 invalid input(s) skipped:' in err and 'truncated.avi: truncated' in err
    assert '1 video(s) processed' in stdout
    with open(out / 'summary.csv') as f:
        assert [r['video'] for r in csv.DictReader(f)] == ['good']
    _assert_no_output_for(out, 'truncated')
    assert not [f for f in os.listdir(out) if f.startswith('.')]  # no staging folder left
    _record('--skip-invalid', 'counted skip (1 of 2 videos), reported',
            err.strip().splitlines()[-1].strip())


def test_one_frame_video_is_segmented_without_ef(model_files, tmp_path, capsys):
    video = tmp_path / 'single.avi'
    write_video(video, _frames(1), fps=25)
    out = tmp_path / 'out'
    code, stdout, _ = _infer(model_files, [video], out, capsys)
    assert code == 0
    import json
    with open(out / 'single.json') as f:
        result = json.load(f)
    assert result['num_frames'] == 1 and not result['beats']
    line = [s for s in stdout.splitlines() if s.startswith('single:')][0]
    assert '1 frames' in line and 'mean EF not reported' in line
    _record('a video of one frame', 'processed: its mask written, no beat, no EF', line)


def test_infer_never_leaves_a_partial_file(model_files, tmp_path, capsys, monkeypatch):
    """A failure while the files of a video are written leaves none of them."""
    video = tmp_path / 'clip.avi'
    write_video(video, _frames(12), fps=25)
    out = tmp_path / 'out'
    from echoseg.apis.video_result import VideoResult

    def broken_plot(self, path=None, title=None):
        with open(path, 'wb') as f:
            f.write(b'half a png')
        raise OSError('disk full')

    monkeypatch.setattr(VideoResult, 'plot_curves', broken_plot)
    with pytest.raises(OSError, match='disk full'):
        _infer(model_files, [video], out, capsys)
    assert os.listdir(out) == []  # masks, JSON and CSV were written, then all removed
    _record('failure while writing a video\'s results', 'no file of it left', 'OSError')


# --------------------------------------------------------------------------- EchoNet
def _echonet(root, rows_ed=21, es_frame=5, listed_missing=False):
    """Video ``a`` with the given defect, a valid video ``b``, and (``listed_missing``) a
    FileList row ``missing`` whose AVI does not exist."""
    videos = root / 'Videos'
    videos.mkdir(parents=True)
    for name in ('a', 'b'):
        write_video(videos / f'{name}.avi', _frames(10), fps=50)
    names = ['a', 'b'] + (['missing'] if listed_missing else [])
    with open(root / 'FileList.csv', 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['FileName', 'EF', 'ESV', 'EDV', 'FrameHeight', 'FrameWidth', 'FPS',
                    'NumberOfFrames', 'Split'])
        for name in names:
            w.writerow([name, 50, 20, 40, 32, 32, 50, 10, 'TRAIN'])
    with open(root / 'VolumeTracings.csv', 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['FileName', 'X1', 'Y1', 'X2', 'Y2', 'Frame'])
        for name in names:
            bad = name == 'a'
            for frame, half, rows in ((0, 10, rows_ed if bad else 21),
                                      (es_frame if bad else 5, 6, 21)):
                w.writerow([f'{name}.avi', 16, 4, 16, 28, frame])
                for i in range(rows - 1):
                    w.writerow([f'{name}.avi', 16 - half, 6 + i, 16 + half, 6 + i, frame])


@pytest.mark.parametrize('case,kwargs,words', [
    ('EchoNet tracing with the wrong row count', dict(rows_ed=20),
     ['VolumeTracings.csv', 'a.avi frame 0 has 20 rows', 'expected 21']),
    ('tracing frame past the video end', dict(es_frame=99),
     ['VolumeTracings.csv', 'a.avi tracing frame 99', 'beyond the video length (10 frames']),
    ('FileList row without its video', dict(listed_missing=True),
     ['missing.avi: video listed in', 'FileList.csv line 4 not found']),
], ids=['rows', 'frame', 'no-video'])
def test_bad_echonet(case, kwargs, words, tmp_path):
    _echonet(tmp_path, **kwargs)
    with pytest.raises(EchoDataError) as info:
        EchoNetDynamicDataset(data_root=str(tmp_path), split='all', pipeline=[])
    message = str(info.value)
    for word in words:
        assert word in message, message
    assert 'skip_invalid=True' in message  # the error says how to skip
    _record(case, 'error (EchoNetDynamicDataset)', message)
    skipping = EchoNetDynamicDataset(data_root=str(tmp_path), split='all', pipeline=[],
                                     skip_invalid=True)
    good = 2 if kwargs.get('listed_missing') else 1
    assert len(skipping.skipped) == 1 and words[-1] in skipping.skipped[0][1]
    assert [skipping.get_data_info(i)['video_id'] for i in range(len(skipping))] == \
        ['a', 'b'][2 - good:]
    _record(case, f'skip_invalid=True: {len(skipping.skipped)} video skipped and logged, '
            f'{len(skipping)} kept', skipping.skipped[0][0])


# --------------------------------------------------------------------------- CAMUS
def _camus(root, cfg_text='ED: 1\nES: 5\nNbFrame: 5\n', mask_size=32):
    """patient0001 with the given defect and a valid patient0002 (2CH, 2023 layout)."""
    import SimpleITK as sitk
    good = dict(cfg_text='ED: 1\nES: 5\nNbFrame: 5\n', mask_size=32)
    for pid, case in (('patient0001', dict(cfg_text=cfg_text, mask_size=mask_size)),
                      ('patient0002', good)):
        folder = root / pid
        folder.mkdir(parents=True)
        (folder / 'Info_2CH.cfg').write_text(case['cfg_text'])
        sitk.WriteImage(sitk.GetImageFromArray(_frames(5)),
                        str(folder / f'{pid}_2CH_half_sequence.nii.gz'))
        size = case['mask_size']
        gt = np.zeros((5, size, size), np.uint8)
        gt[:, 4:12, 5:11] = 1
        sitk.WriteImage(sitk.GetImageFromArray(gt),
                        str(folder / f'{pid}_2CH_half_sequence_gt.nii.gz'))


@pytest.mark.parametrize('case,kwargs,words', [
    ('CAMUS cfg missing ED', dict(cfg_text='ES: 5\nNbFrame: 5\n'),
     ['Info_2CH.cfg', "missing key 'ED'"]),
    ('CAMUS cfg missing ES', dict(cfg_text='ED: 1\nNbFrame: 5\n'),
     ['Info_2CH.cfg', "missing key 'ES'"]),
    ('CAMUS ED out of range', dict(cfg_text='ED: 1\nES: 9\nNbFrame: 5\n'),
     ['Info_2CH.cfg', 'ES = 9 is outside the 5 frames']),
    ('image/mask size mismatch', dict(mask_size=16),
     ['half_sequence_gt.nii.gz', 'mask size', 'disagrees with its image']),
], ids=['no-ED', 'no-ES', 'range', 'size'])
def test_bad_camus(case, kwargs, words, tmp_path):
    _camus(tmp_path, **kwargs)
    with pytest.raises(EchoDataError) as info:
        CAMUSDataset(data_root=str(tmp_path), split='all', views='2CH', mode='full',
                     pipeline=[])
    message = str(info.value)
    for word in words:
        assert word in message, message
    _record(case, 'error (CAMUSDataset)', message)
    skipping = CAMUSDataset(data_root=str(tmp_path), split='all', views='2CH', mode='full',
                            pipeline=[], skip_invalid=True)
    assert len(skipping.skipped) == 1 and skipping.skipped[0][0] == 'patient0001_2CH'
    assert [skipping.get_data_info(i)['video_id'] for i in range(len(skipping))] == [
        'patient0002_2CH']
    _record(case, 'skip_invalid=True: 1 case skipped and logged, 1 kept',
            skipping.skipped[0][0])


# --------------------------------------------------------------------------- configs
def test_config_unknown_key(tmp_path):
    cfg = tmp_path / 'typo.py'
    cfg.write_text(f'_base_ = [{BASELINE!r}]\ntrain_dataloder = dict(batch_size=2)\n')
    with pytest.raises(ConfigError) as info:
        load_config(str(cfg))
    message = str(info.value)
    assert 'typo.py' in message and "unknown config key 'train_dataloder'" in message
    assert "did you mean 'train_dataloader'" in message
    _record('config with an unknown key', 'error (every tool, before the run)', message)


def test_config_wrong_type(tmp_path):
    cfg = tmp_path / 'types.py'
    cfg.write_text(f"_base_ = [{BASELINE!r}]\noptim_wrapper = dict(optimizer=dict("
                   "lr='1e-3'))\n")
    with pytest.raises(ConfigError) as info:
        load_config(str(cfg))
    message = str(info.value)
    assert 'types.py' in message and 'optim_wrapper.optimizer.lr must be a positive ' \
        "number, got '1e-3' (str)" in message
    _record('config with a wrong type', 'error (every tool, before the run)', message)
    with pytest.raises(ConfigError, match='train_dataloader.batch_size must be a positive '
                                          "integer, got 'four'"):
        load_config(BASELINE, {'train_dataloader.batch_size': 'four'})


# --------------------------------------------------------------------------- checkpoints
def _test_tool(argv, capsys):
    with pytest.raises(SystemExit) as info:
        cli.test_main(argv)
    message = capsys.readouterr().err.strip().splitlines()[-1]
    return info.value.code, message[len('error: '):] if message.startswith('error: ') \
        else message


def test_checkpoint_of_another_model(model_files, tmp_path, capsys):
    code, message = _test_tool([model_files['cfg_path'], model_files['other_ckpt'],
                                '--work-dir', str(tmp_path / 'w')], capsys)
    assert code == 2
    assert 'other_model.pth: not a checkpoint of this config' in message
    assert 'of another shape' in message and 'decode_head.conv_seg.weight' in message
    _record('checkpoint of another model', 'error (tools/test.py exit 2)', message)
    out = tmp_path / 'out'
    video = tmp_path / 'v.avi'
    write_video(video, _frames(6), fps=25)
    code = infer_tool.main([model_files['cfg_path'], model_files['other_ckpt'], str(video),
                            '--out-dir', str(out), '--no-video'])
    err = capsys.readouterr().err.strip()
    assert code == 2 and 'other_model.pth: the weights do not fit the model' in err
    _assert_no_output_for(out, 'v')
    _record('checkpoint of another model', 'error (tools/infer.py exit 2)',
            ' '.join(err[len('error: '):].split())[:300])


def test_corrupt_checkpoint(model_files, tmp_path, capsys):
    bad = tmp_path / 'corrupt.pth'
    data = open(model_files['ckpt'], 'rb').read()
    bad.write_bytes(data[:len(data) // 2])
    code, message = _test_tool([model_files['cfg_path'], str(bad), '--work-dir',
                                str(tmp_path / 'w')], capsys)
    assert code == 2 and 'corrupt.pth: not a readable PyTorch checkpoint' in message
    _record('corrupt (truncated) checkpoint', 'error (tools/test.py exit 2)', message)
    with pytest.raises(CheckpointError, match='corrupt.pth: not a readable'):
        from echoseg.apis.inference import init_model
        init_model(model_files['cfg_path'], str(bad))

