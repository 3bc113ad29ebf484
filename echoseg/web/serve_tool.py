"""``tools/serve.py``: a local web viewer of a trained model (``echoseg-serve``).

    python tools/serve.py CONFIG CHECKPOINT [--host 127.0.0.1] [--port 7860]
        [--device cpu] [--num-frames T] [--stride S] [--frame-step N] [--no-postprocess]
        [--temporal-window W] [--tta-flip] [--max-upload-mb 512]
        [--session-ttl 3600] [--max-queue 8] [--samples DIR] [--cfg-options k=v ...]

Open http://127.0.0.1:7860 and drop a video. See ``docs/web_viewer.md``.
"""
import argparse
import os
import os.path as osp
import sys

from .service import DEFAULT_MAX_UPLOAD_MB

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
NO_CHECKPOINT = (
    'a trained checkpoint is needed. The demo writes one in a few minutes on a CPU:\n'
    '    bash tools/run_demo.sh        # -> work_dirs/demo/epoch_6.pth\n'
    '    python tools/serve.py work_dirs/demo/fcn_r18_synthetic.py work_dirs/demo/epoch_6.pth\n'
    'or train your own: python tools/train.py CONFIG (docs/getting_started.md)')


def default_samples_root() -> str:
    """``$ECHOSEG_ECHODATA``, else ``../shared/echodata`` beside the repository."""
    return os.environ.get('ECHOSEG_ECHODATA', osp.join(osp.dirname(ROOT), 'shared', 'echodata'))


def build_parser() -> argparse.ArgumentParser:
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(
        description='A local web viewer: upload an echo video, see the LV, the volume curve '
        'and the EF (docs/web_viewer.md)')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', nargs='?', help='checkpoint file (the demo writes '
                        'work_dirs/demo/epoch_6.pth)')
    parser.add_argument('--host', default='127.0.0.1',
                        help='address to listen on (default 127.0.0.1: this machine only; '
                        '0.0.0.0 opens it to the network)')
    parser.add_argument('--port', type=int, default=7860, help='port (default 7860)')
    parser.add_argument('--device', default='cpu', help="'cpu', 'cuda', 'cuda:1' ...")
    parser.add_argument('--num-frames', type=int,
                        help="clip length T (default: the config's test pipeline)")
    parser.add_argument('--stride', type=int,
                        help='frames between windows (default as tools/infer.py: T for '
                        'per-frame models and models with a per-video memory, else T // 2)')
    parser.add_argument('--frame-step', type=int, default=1,
                        help='windows hold every n-th frame, as tools/infer.py --frame-step')
    parser.add_argument('--no-postprocess', action='store_true',
                        help='keep the raw argmax masks, as tools/infer.py --no-postprocess')
    parser.add_argument('--temporal-window', type=int, default=0, metavar='W',
                        help='per-pixel majority over W (odd) frames, as tools/infer.py')
    parser.add_argument('--tta-flip', action='store_true',
                        help='test-time flip averaging, as tools/infer.py --tta-flip')
    parser.add_argument('--max-upload-mb', type=float, default=DEFAULT_MAX_UPLOAD_MB,
                        help=f'refuse larger uploads (default {DEFAULT_MAX_UPLOAD_MB:g})')
    parser.add_argument('--session-ttl', type=float, default=3600.0,
                        help='seconds without a request after which a page\'s files are '
                        'removed (default 3600)')
    parser.add_argument('--max-queue', type=int, default=8,
                        help='videos that may wait for the model at once (default 8)')
    parser.add_argument('--samples', default=None,
                        help='folder of sample videos offered on the page (default '
                        '$ECHOSEG_ECHODATA or ../shared/echodata when present; "" for none)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value (dotted keys)')
    return parser


def check_files(config: str, checkpoint) -> None:
    """Raise ``SystemExit``-worthy ``ValueError`` messages before anything is loaded."""
    if not osp.isfile(config):
        raise ValueError(f'{config}: config file not found')
    if not checkpoint:
        raise ValueError(f'no checkpoint given; {NO_CHECKPOINT}')
    if not osp.isfile(checkpoint):
        raise ValueError(f'{checkpoint}: checkpoint file not found; {NO_CHECKPOINT}')


def build_service(args):
    """The service of the parsed arguments; the predictor options as tools/infer.py
    turns them into ``VideoPredictor`` arguments."""
    from .service import InferenceService
    if args.no_postprocess and args.temporal_window:
        raise ValueError('--temporal-window is part of the post-processing: it cannot go '
                         'with --no-postprocess')
    postprocess = False if args.no_postprocess else dict(temporal_window=args.temporal_window)
    samples = default_samples_root() if args.samples is None else args.samples
    return InferenceService(
        args.config, args.checkpoint, device=args.device, num_frames=args.num_frames,
        stride=args.stride, frame_step=args.frame_step, postprocess=postprocess,
        tta_flip=args.tta_flip, cfg_options=args.cfg_options,
        max_upload_bytes=int(args.max_upload_mb * 2**20), session_ttl=args.session_ttl,
        max_queue=args.max_queue, samples_root=samples or None)


def main(argv=None) -> int:
    """Serve until interrupted; returns the exit status (2 on a usage or model error)."""
    args = build_parser().parse_args(argv)

    def fail(msg) -> int:
        print(f'error: {msg}', file=sys.stderr)
        return 2

    try:
        import fastapi  # noqa: F401
        import uvicorn
    except ImportError as exc:
        return fail(f'{exc.name} is not installed; run `bash tools/setup_env.sh` (or '
                    '`pip install fastapi uvicorn`)')
    from echoseg.utils.checkpoint import CheckpointError
    from echoseg.utils.config_check import ConfigError
    try:
        check_files(args.config, args.checkpoint)
        service = build_service(args)
    except (ValueError, ConfigError, FileNotFoundError, CheckpointError, KeyError,
            RuntimeError) as exc:
        return fail(exc)
    from .app import create_app
    app = create_app(service)
    where = 'this machine only' if args.host in ('127.0.0.1', 'localhost', '::1') \
        else f'the network ({args.host})'
    print(f'model: {args.config} + {args.checkpoint}; clip length '
          f'{service.predictor.num_frames}, {len(service.samples)} sample video(s)')
    print(f'echoseg viewer on http://{args.host}:{args.port}  (listening for {where}; '
          'Ctrl+C stops it)', flush=True)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level='warning')
    finally:
        service.close()
    return 0


__all__ = ['main', 'build_parser', 'check_files', 'build_service', 'NO_CHECKPOINT']
