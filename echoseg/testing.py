"""Small builders for tests and examples: tiny models, synthetic batches, tiny configs and
the runs of tools/train.py (killed and resumed) that go with them."""
import copy
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch

from echoseg.datasets.transforms.compose import load_clip  # noqa: F401  (the tests' helper)
from echoseg.structures import IGNORE_INDEX, EchoDataSample


def tiny_segmentor_cfg(num_classes: int = 2, **overrides) -> dict:
    """An ``EchoVideoSegmentor`` config small enough for CPU unit tests (ResNet-18 with
    8 base channels, FCNHead on the last level)."""
    cfg = dict(
        type='EchoVideoSegmentor',
        data_preprocessor=dict(type='EchoDataPreprocessor', mean=127.5, std=127.5),
        backbone=dict(type='ResNetV1c', depth=18, base_channels=8, stem_channels=8,
                      out_indices=(0, 1, 2, 3), dilations=(1, 1, 1, 1),
                      strides=(1, 2, 2, 2)),
        decode_head=dict(type='FCNHead', in_channels=64, in_index=3, channels=16,
                         num_convs=1, concat_input=False, num_classes=num_classes,
                         loss_decode=dict(type='CrossEntropyLoss', avg_non_ignore=True)),
    )
    for key, value in overrides.items():
        cfg[key] = value
    return copy.deepcopy(cfg)


def make_clip_batch(batch_size: int = 2, num_frames: int = 4, size: Tuple[int, int] = (32, 32),
                    labelled: Optional[Sequence[int]] = (0, -1), seed: int = 0,
                    with_oracle: bool = False) -> Tuple[List[torch.Tensor],
                                                         List[EchoDataSample]]:
    """Packed clips with a bright disc (label 1) on a dark background; masks only on the
    ``labelled`` frame positions (others hold the ignore index)."""
    rng = np.random.default_rng(seed)
    h, w = size
    yy, xx = np.mgrid[:h, :w]
    inputs, samples = [], []
    for b in range(batch_size):
        frames, masks = [], []
        for t in range(num_frames):
            r = h * (0.3 - 0.1 * t / max(num_frames - 1, 1))
            cy, cx = h / 2 + rng.uniform(-2, 2), w / 2 + rng.uniform(-2, 2)
            m = ((yy - cy) ** 2 + (xx - cx) ** 2 <= r * r).astype(np.int64)
            frames.append(40 + 150 * m + rng.normal(0, 10, (h, w)))
            masks.append(m)
        masks = torch.as_tensor(np.stack(masks))
        lab = torch.zeros(num_frames, dtype=torch.bool)
        if labelled is not None:
            lab[list(labelled)] = True
        sample = EchoDataSample()
        sample.gt_masks = torch.where(lab[:, None, None], masks, torch.tensor(IGNORE_INDEX))
        sample.labelled = lab
        if with_oracle:
            sample.set_field(masks.clone(), 'oracle_masks', dtype=torch.Tensor)
        sample.set_metainfo(dict(video_id=f'clip{b}', frame_indices=list(range(num_frames)),
                                 ed_index=0, es_index=num_frames - 1, ori_shape=(h, w),
                                 img_shape=(h, w), spacing=None))
        inputs.append(torch.as_tensor(np.stack(frames), dtype=torch.float32).clamp(0, 255)
                      .unsqueeze(1))
        samples.append(sample)
    return inputs, samples


def write_tiny_config(directory: str, base: str, num_videos: int = 4,
                      size: int = 32, num_frames: int = 3, augment: bool = False) -> str:
    """Write a config inheriting ``base`` with a tiny model and tiny synthetic clips, for
    tests that go through the real tools and runner; returns its path. ``augment`` adds
    random gamma, contrast, scale and rotation (each with probability 0.5) to the training
    pipeline and dropout 0.5 to the head, so every iteration draws random numbers."""
    import os.path as osp
    model = tiny_segmentor_cfg()
    model.pop('type')
    if augment:
        model['decode_head']['dropout_ratio'] = 0.5
    load = ("dict(type='LoadEchoVideo'), dict(type='LoadEchoAnnotations'), "
            f"dict(type='SampleClipFrames', num_frames={num_frames}), ")
    augmentations = ''.join(f"dict(type='{t}', prob=0.5), " for t in (
        'RandomClipGamma', 'RandomClipContrast', 'RandomClipScale', 'RandomClipRotation'))
    ds = (f'dict(num_videos={num_videos}, image_size=({size}, {size}), '
          "num_frames_range=(24, 26), pipeline=[{}dict(type='PackEchoInputs')])")
    loader = 'batch_size=2, num_workers=0, persistent_workers=False'
    path = osp.join(str(directory), 'tiny.py')
    with open(path, 'w') as f:
        f.write(f'_base_ = [{base!r}]\n'
                f'model = dict(_delete_=True, type="EchoVideoSegmentor", **{model!r})\n'
                f'train_dataloader = dict({loader}, '
                f'dataset={ds.format(load + (augmentations if augment else ""))})\n'
                f'val_dataloader = dict({loader}, dataset={ds.format(load)})\n'
                'test_dataloader = val_dataloader\n'
                'default_hooks = dict(logger=dict(interval=1))\n')
    return path


def write_tiny_echonet_config(directory: str, base: str) -> str:
    """Write a config inheriting ``base`` (an EchoNet-Dynamic config) with a tiny model
    (8 x 8 features of a 32 x 32 input, BCE + Dice), 4-frame clips resized to 32 x 32 and
    the training videos repeated 48 times (a wrapped dataset) so that one epoch learns
    something; the test pipeline resizes without keeping the original masks. Returns its
    path."""
    import os.path as osp
    model = tiny_segmentor_cfg()
    model.pop('type')
    model['backbone'].update(strides=(1, 1, 1, 1))
    model['decode_head']['loss_decode'] = dict(type='BCEDiceLoss')
    load = "dict(type='LoadEchoVideo'), dict(type='LoadEchoAnnotations'), " \
           "dict(type='SampleClipFrames', num_frames=4), " \
           "dict(type='ResizeClip', scale=(32, 32)), dict(type='PackEchoInputs')"
    path = osp.join(str(directory), 'tiny_echonet.py')
    with open(path, 'w') as f:
        f.write(f'_base_ = [{base!r}]\n'
                f'model = dict(_delete_=True, type="EchoVideoSegmentor", **{model!r})\n'
                'train_dataloader = dict(batch_size=2, dataset=dict(_delete_=True, '
                "type='RepeatDataset', times=48, dataset=dict(type='EchoNetDynamicDataset', "
                f"data_root='data/echonet', pipeline=[{load}])))\n"
                f'val_dataloader = dict(dataset=dict(pipeline=[{load}]))\n'
                f'test_dataloader = dict(dataset=dict(pipeline=[{load}]))\n'
                "optim_wrapper = dict(optimizer=dict(type='AdamW', lr=1e-2))\n"
                'default_hooks = dict(logger=dict(interval=1))\n')
    return path


def echonet_tracing_rows(a: float, b: float, cx: float, cy: float) -> np.ndarray:
    """EchoNet-Dynamic's 21 tracing rows (X1, Y1, X2, Y2) of an elliptic LV of vertical
    semi-axis ``a`` and horizontal ``b``: the long axis, then 20 chords from top to bottom."""
    y = np.linspace(cy - a, cy + a, 22)[1:-1]
    half = b * np.sqrt(np.clip(1 - ((y - cy) / a) ** 2, 0, None))
    return np.vstack([[cx, cy - a, cx, cy + a], np.stack([cx - half, y, cx + half, y], 1)])


def write_echonet_folder(root: str, videos: Sequence[Tuple[str, int, int, int, float]],
                         size: int = 40, fan: bool = False) -> dict:
    """A tiny EchoNet-Dynamic layout: ``Videos/<name>.avi`` (MJPG, 50 frames/s),
    ``FileList.csv`` (every Split TEST) and ``VolumeTracings.csv``.

    ``videos``: (name, frames, ED frame, ES frame, EF) per video. Each shows a dark
    elliptic LV on speckle (seeded by the video's position) whose semi-axes shrink from
    13 x 9 pixels at ED to 9 x 6 at ES (and as far from ED on the other side); with
    ``fan`` everything outside a sector under the top centre is black. The ED and ES
    frames are traced. Returns ``{name: {'ED': mask, 'ES': mask}}``, the traced polygons
    filled.
    """
    import csv
    import os
    import os.path as osp

    import cv2
    os.makedirs(osp.join(root, 'Videos'))
    yy, xx = np.mgrid[:size, :size]
    centre = size / 2
    sector = np.ones((size, size), np.uint8)
    if fan:
        sector[:] = 0
        cv2.fillConvexPoly(sector, np.array([[size // 2, 0], [0, size // 2], [0, size - 1],
                                             [size - 1, size - 1], [size - 1, size // 2]]), 1)
    masks = {}
    with open(osp.join(root, 'VolumeTracings.csv'), 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['FileName', 'X1', 'Y1', 'X2', 'Y2', 'Frame'])
        for i, (name, num_frames, ed, es, _) in enumerate(videos):
            span = abs(es - ed)

            def axes(t):
                d = min(abs(t - ed), span) / span
                return 13 - 4 * d, 9 - 3 * d

            rng = np.random.default_rng(i)
            writer = cv2.VideoWriter(osp.join(root, 'Videos', name + '.avi'),
                                     cv2.VideoWriter_fourcc(*'MJPG'), 50.0, (size, size),
                                     True)
            for t in range(num_frames):
                a, b = axes(t)
                inside = ((yy - centre) / a) ** 2 + ((xx - centre) / b) ** 2 <= 1
                frame = np.clip(np.where(inside, 30, 160) + rng.normal(0, 20, inside.shape),
                                0, 255).astype(np.uint8) * sector
                writer.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
            writer.release()
            masks[name] = {}
            for phase, t in (('ES', es), ('ED', ed)):
                rows = echonet_tracing_rows(*axes(t), centre, centre)
                for row in rows:
                    w.writerow([name + '.avi'] + [f'{v:.4f}' for v in row] + [t])
                poly = np.concatenate([rows[1:, :2], rows[1:, 2:][::-1]])
                mask = np.zeros((size, size), np.uint8)
                cv2.fillPoly(mask, [np.round(poly).astype(np.int32)], 1)
                masks[name][phase] = mask
    with open(osp.join(root, 'FileList.csv'), 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['FileName', 'EF', 'ESV', 'EDV', 'FrameHeight', 'FrameWidth', 'FPS',
                    'NumberOfFrames', 'Split'])
        for name, num_frames, _, _, ef in videos:
            w.writerow([name, ef, 30, 70, size, size, 50, num_frames, 'TEST'])
    return masks


def write_dicom_cine(path, frames, frame_time_ms=20.0, regions=True, pixel_spacing=None,
                     photometric='MONOCHROME2', syntax=None):
    """Write an ultrasound multi-frame DICOM of (N, H, W) uint8 frames (needs pydicom):
    ``FrameTime`` in ms, an ultrasound region with physical deltas 0.03 cm (rows) and
    0.045 cm (columns) when ``regions``, ``PixelSpacing`` when given, compressed with
    ``syntax`` (a pydicom transfer syntax UID) when given; returns the path."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.3.1'
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = 'US'
    n, h, w = frames.shape
    ds.NumberOfFrames = n
    ds.Rows, ds.Columns = h, w
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.FrameTime = frame_time_ms
    if regions:
        region = Dataset()
        region.PhysicalUnitsXDirection = 3  # cm
        region.PhysicalUnitsYDirection = 3
        region.PhysicalDeltaX = 0.045
        region.PhysicalDeltaY = 0.03
        ds.SequenceOfUltrasoundRegions = [region]
    if pixel_spacing is not None:
        ds.PixelSpacing = list(pixel_spacing)
    ds.PixelData = np.ascontiguousarray(frames).tobytes()
    if syntax is not None:
        ds.compress(syntax)
    ds.save_as(str(path), enforce_file_format=True)
    return str(path)


#: a hook module for kill-and-resume tests (``write_sigkill_config``)
_SIGKILL_HOOK = '''"""SigkillHook: kills its own training process, for kill-and-resume tests."""
import os
import signal

from mmengine.hooks import Hook

from echoseg.registry import HOOKS


@HOOKS.register_module()
class SigkillHook(Hook):
    """SIGKILLs its own process (no handler, no clean-up) once ``at`` iterations are
    trained: before the next training iteration (``phase='train'``) or at the first batch
    of the validation that follows them (``phase='val'``, i.e. after the checkpoints of
    that iteration or epoch are written)."""

    def __init__(self, at, phase='train'):
        assert phase in ('train', 'val'), phase
        self.at, self.phase = at, phase

    def _kill(self, runner, phase):
        if phase == self.phase and runner.iter == self.at:
            print(f'SIGKILL in {phase} after iteration {runner.iter} (epoch '
                  f'{runner.epoch})', flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self._kill(runner, 'train')

    def before_val_iter(self, runner, batch_idx, data_batch=None):
        self._kill(runner, 'val')
'''


def write_derived_config(directory: str, name: str, base: str, text: str) -> str:
    """Write ``directory/name``: a config inheriting ``base`` followed by ``text``; returns
    its path."""
    import os.path as osp
    path = osp.join(str(directory), name)
    with open(path, 'w') as f:
        f.write(f'_base_ = [{str(base)!r}]\n{text}')
    return path


def write_sigkill_config(directory: str, name: str, base: str, at: int,
                         phase: str = 'train') -> str:
    """Write ``directory/name``: ``base`` with a ``SigkillHook`` that kills the run after
    ``at`` training iterations, before the next one (``phase='train'``) or in the
    validation that follows them (``phase='val'``), and the hook's module beside it. Run it
    with ``directory`` on the path (:func:`run_train_tool`'s ``extra_path``)."""
    import os.path as osp
    module = 'echoseg_sigkill_hook'
    with open(osp.join(str(directory), f'{module}.py'), 'w') as f:
        f.write(_SIGKILL_HOOK)
    return write_derived_config(
        directory, name, base,
        f'custom_imports = dict(imports=[{module!r}])\n'
        f"custom_hooks = [dict(type='SigkillHook', at={int(at)}, phase={phase!r})]\n")


def run_train_tool(config: str, work_dir: str, *args: str, expect: Optional[int] = 0,
                   extra_path: Sequence[str] = (), timeout: float = 600):
    """Run ``tools/train.py config --work-dir work_dir *args`` in a subprocess with this
    checkout's echoseg first on the path (and ``extra_path`` after it), one OpenMP thread;
    returns the ``CompletedProcess``. Another exit status than ``expect`` (``None``: any;
    ``-signal.SIGKILL`` for a run a ``SigkillHook`` kills) raises ``RuntimeError`` with the
    end of its output."""
    import os
    import os.path as osp
    import subprocess
    import sys
    root = osp.dirname(osp.dirname(osp.abspath(__file__)))
    env = dict(os.environ, OMP_NUM_THREADS='1',
               PYTHONPATH=os.pathsep.join([root, *map(str, extra_path)]))
    proc = subprocess.run([sys.executable, 'tools/train.py', str(config), '--work-dir',
                           str(work_dir), *args], cwd=root, capture_output=True, text=True,
                          timeout=timeout, env=env)
    if expect is not None and proc.returncode != expect:
        raise RuntimeError(f'tools/train.py {config} exited with {proc.returncode}, not '
                           f'{expect}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}')
    return proc


def differing_weights(path_a: str, path_b: str) -> dict:
    """``{name: largest absolute difference}`` of the state-dict tensors of two checkpoints
    (loaded with ``weights_only=True``) that are not bit-identical; empty when the weights
    are the same. Different tensor names raise ``AssertionError``."""
    a = torch.load(path_a, map_location='cpu', weights_only=True)['state_dict']
    b = torch.load(path_b, map_location='cpu', weights_only=True)['state_dict']
    assert a.keys() == b.keys(), (path_a, path_b, sorted(set(a) ^ set(b)))
    return {k: float((a[k].double() - b[k].double()).abs().max()) for k in a
            if not torch.equal(a[k], b[k])}


def best_checkpoint_random_states(work_dir: str) -> Tuple[dict, dict]:
    """The ``random_state`` of the one ``best_*_{epoch,iter}_N.pth`` in ``work_dir`` and
    that of the regular checkpoint of the same step (``{epoch,iter}_N.pth``)."""
    import glob
    import os.path as osp
    best = glob.glob(osp.join(str(work_dir), 'best_*.pth'))
    assert len(best) == 1, best
    unit, step = osp.basename(best[0])[:-len('.pth')].rsplit('_', 2)[1:]
    twin = osp.join(str(work_dir), f'{unit}_{step}.pth')
    return tuple(torch.load(p, map_location='cpu', weights_only=True)['random_state']
                 for p in (best[0], twin))


def train_without_validation(config: str, work_dir: str, directory: str):
    """Train ``config`` into ``work_dir`` with no validation at all (``val_begin`` past the
    end, no best checkpoint); the derived config is written to ``directory``."""
    cfg = write_derived_config(directory, 'no_val.py', config,
                               'train_cfg = dict(val_begin=10 ** 9)\n'
                               'default_hooks = dict(checkpoint=dict(save_best=None))\n')
    return run_train_tool(cfg, work_dir)


def train_with_kills(config: str, work_dir: str, directory: str,
                     kills: Sequence[Tuple[int, str]]) -> List[Tuple[str, str]]:
    """Train ``config`` into ``work_dir`` as an interrupted user would: one run per
    ``(at, phase)`` in ``kills`` that a ``SigkillHook`` kills (:func:`write_sigkill_config`,
    its files written to ``directory``), each but the first with ``--resume``, then a
    ``--resume`` run to the end. Returns, per kill, the killed run's stdout and the
    checkpoint ``last_checkpoint`` named after it."""
    import os.path as osp
    import signal
    killed = []
    for n, (at, phase) in enumerate(kills):
        cfg = write_sigkill_config(directory, f'kill_{n}.py', config, at, phase)
        proc = run_train_tool(cfg, work_dir, *(['--resume'] if n else []),
                              expect=-signal.SIGKILL, extra_path=[directory])
        with open(osp.join(str(work_dir), 'last_checkpoint')) as f:
            killed.append((proc.stdout, f.read().strip()))
    run_train_tool(config, work_dir, '--resume')
    return killed
