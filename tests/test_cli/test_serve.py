"""tools/serve.py / echoseg-serve (echoseg.cli.serve): localhost by default, a clear way to
a checkpoint, the predictor options of tools/infer.py."""
import os
import os.path as osp
import re
import subprocess
import sys

from echoseg.cli.serve import build_parser, build_service, main

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_defaults_listen_on_localhost_only():
    args = build_parser().parse_args(['cfg.py', 'ckpt.pth'])
    assert args.host == '127.0.0.1' and args.port == 7860
    args = build_parser().parse_args(['cfg.py', 'ckpt.pth', '--host', '0.0.0.0', '--port',
                                      '9000'])
    assert args.host == '0.0.0.0' and args.port == 9000


def test_without_a_checkpoint_it_says_how_to_get_one(tiny_model_files, capsys):
    config, ckpt, root = tiny_model_files
    assert main([config]) == 2
    err = capsys.readouterr().err
    assert 'no checkpoint given' in err and 'bash tools/run_demo.sh' in err
    assert 'work_dirs/demo/epoch_12.pth' in err
    assert 'work_dirs/demo/fcn_r18_synthetic_ef.py work_dirs/demo/epoch_12.pth' in err
    assert main([config, str(root / 'missing.pth')]) == 2
    err = capsys.readouterr().err
    assert 'missing.pth: checkpoint file not found' in err and 'run_demo.sh' in err
    assert main(['no/such/config.py', ckpt]) == 2
    assert 'config file not found' in capsys.readouterr().err
    assert main([config, ckpt, '--no-postprocess', '--temporal-window', '3']) == 2
    assert 'cannot go with --no-postprocess' in capsys.readouterr().err


def test_a_checkpoint_of_another_model_is_an_error_naming_it(tiny_model_files, tmp_path,
                                                              capsys):
    import torch
    bad = tmp_path / 'other.pth'
    torch.save({'state_dict': {'foo.weight': torch.zeros(2)}, 'meta': {}}, str(bad))
    assert main([tiny_model_files[0], str(bad)]) == 2
    assert 'other.pth' in capsys.readouterr().err


def test_console_entry_point_and_script():
    setup = open(osp.join(ROOT, 'setup.py')).read()
    assert re.search(r"'echoseg-serve=echoseg\.cli\.serve:main'", setup)
    assert "'echoseg.web': ['static/*']" in setup
    proc = subprocess.run([sys.executable, osp.join(ROOT, 'tools', 'serve.py'), '--help'],
                          capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=ROOT))
    assert proc.returncode == 0 and '--max-upload-mb' in proc.stdout
    assert '127.0.0.1' in proc.stdout


def test_predictor_options_reach_the_service(tiny_model_files):
    import numpy as np

    from echoseg.apis import VideoPredictor
    config, ckpt, root = tiny_model_files
    video = str(root / 'videos' / 'beat.avi')
    args = build_parser().parse_args([config, ckpt, '--frame-step', '2', '--num-frames', '4',
                                      '--samples', '', '--max-upload-mb', '3', '--tta-flip',
                                      '--temporal-window', '3'])
    svc = build_service(args)
    try:
        p = svc.predictor
        assert (p.frame_step, p.num_frames, svc.samples) == (2, 4, {})
        assert p.tta_flip and p.postprocess.temporal_window == 3
        assert svc.max_upload_bytes == 3 * 2**20
        plain = VideoPredictor(svc.model, num_frames=4, frame_step=2, tta_flip=True,
                               postprocess=dict(temporal_window=3))
        np.testing.assert_array_equal(p.predict(video).masks, plain.predict(video).masks)
    finally:
        svc.close()
