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


def _closing_rank(rank, port, folder, queue):
    import os
    import os.path as osp
    import time

    import torch.distributed as dist
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=2)
    if rank == 1:  # the slow rank: still busy when rank 0 has finished
        time.sleep(1.0)
        open(osp.join(folder, 'rank1_done'), 'w').close()
    cli_args.close_distributed(finished=True)
    queue.put((rank, osp.exists(osp.join(folder, 'rank1_done')), dist.is_initialized()))


def test_close_distributed_waits_for_every_rank_when_the_run_finished(tmp_path):
    """A finished run's ranks meet before the group is shut down: rank 0 leaves
    close_distributed only after the slow rank 1 has finished its work."""
    import socket

    import torch.multiprocessing as mp
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    ctx = mp.get_context('spawn')
    queue = ctx.Queue()
    procs = [ctx.Process(target=_closing_rank, args=(r, port, str(tmp_path), queue))
             for r in range(2)]
    for p in procs:
        p.start()
    results = dict((r, (done, alive)) for r, done, alive in
                   (queue.get(timeout=120) for _ in procs))
    for p in procs:
        p.join(timeout=60)
    assert [p.exitcode for p in procs] == [0, 0]
    assert results[0] == (True, False)  # rank 1's work was done; the group is closed
    assert results[1] == (True, False)
