"""echoseg.cli.args: the predictor flags mean the same to infer and serve; one error helper."""
import argparse

import pytest

from echoseg.cli import args as cli_args
from echoseg.cli.infer import build_parser as infer_parser
from echoseg.cli.serve import build_parser as serve_parser

FLAGS = ['--device', 'cuda:1', '--num-frames', '6', '--stride', '3', '--frame-step', '2',
         '--temporal-window', '5', '--tta-flip', '--ef-readout', 'smoothed', '--cfg-options',
         'model.decode_head.channels=8']


def test_infer_and_serve_read_the_predictor_flags_alike():
    infer = infer_parser().parse_args(['c.py', 'k.pth', 'v.avi', '--out-dir', 'o'] + FLAGS)
    serve = serve_parser().parse_args(['c.py', 'k.pth'] + FLAGS)
    expected = dict(num_frames=6, stride=3, frame_step=2,
                    postprocess=dict(temporal_window=5), tta_flip=True, ef_readout='smoothed')
    assert cli_args.predictor_kwargs(infer) == cli_args.predictor_kwargs(serve) == expected
    for args in (infer, serve):
        assert args.device == 'cuda:1'
        assert args.cfg_options == {'model.decode_head.channels': 8}


def test_defaults_and_no_postprocess():
    parser = argparse.ArgumentParser()
    cli_args.add_predictor_args(parser)
    defaults = cli_args.predictor_kwargs(parser.parse_args([]))
    assert defaults == dict(num_frames=None, stride=None, frame_step=1,
                            postprocess=dict(temporal_window=0), tta_flip=False,
                            ef_readout='frames')
    raw = cli_args.predictor_kwargs(parser.parse_args(['--no-postprocess']))
    assert raw['postprocess'] is False
    with pytest.raises(ValueError, match='cannot go with --no-postprocess'):
        cli_args.predictor_kwargs(parser.parse_args(['--no-postprocess',
                                                     '--temporal-window', '3']))


def test_fail_prints_one_line_and_returns_status_2(capsys):
    assert cli_args.fail(FileNotFoundError('x.py: config file not found')) == 2
    assert capsys.readouterr().err == 'error: x.py: config file not found\n'


def test_demo_paths_name_the_demo_configs_last_checkpoint():
    """DEMO_CHECKPOINT is the checkpoint the demo config's last epoch writes, and the
    demo's config exists and tests on enough clips to measure EF (64 or more)."""
    import os.path as osp

    from mmengine.config import Config
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = Config.fromfile(osp.join(root, cli_args.DEMO_CONFIG))
    assert cli_args.DEMO_CHECKPOINT == \
        f'{cli_args.DEMO_WORK_DIR}/epoch_{cfg.train_cfg.max_epochs}.pth'
    assert cfg.test_dataloader.dataset.num_videos >= 64
