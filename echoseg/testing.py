"""Small builders for tests and examples: tiny models and synthetic batches."""
import copy
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch

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
                      size: int = 32, num_frames: int = 3) -> str:
    """Write a config inheriting ``base`` with a tiny model and tiny synthetic clips, for
    tests that go through the real tools and runner; returns its path."""
    import os.path as osp
    model = tiny_segmentor_cfg()
    model.pop('type')
    ds = (f'dict(num_videos={num_videos}, image_size=({size}, {size}), '
          'num_frames_range=(24, 26), '
          "pipeline=[dict(type='LoadEchoVideo'), dict(type='LoadEchoAnnotations'), "
          f"dict(type='SampleClipFrames', num_frames={num_frames}), "
          "dict(type='PackEchoInputs')])")
    loader = 'batch_size=2, num_workers=0, persistent_workers=False'
    path = osp.join(str(directory), 'tiny.py')
    with open(path, 'w') as f:
        f.write(f'_base_ = [{base!r}]\n'
                f'model = dict(_delete_=True, type="EchoVideoSegmentor", **{model!r})\n'
                f'train_dataloader = dict({loader}, dataset={ds})\n'
                f'val_dataloader = dict({loader}, dataset={ds})\n'
                'test_dataloader = val_dataloader\n'
                'default_hooks = dict(logger=dict(interval=1))\n')
    return path


def load_clip(info: dict, num_frames: int = 10, scale=None) -> dict:
    """Run a dataset's data info through the clip loading transforms (and an optional
    ResizeClip keeping the original masks), as the pipelines do."""
    from echoseg.datasets.transforms import (LoadEchoAnnotations, LoadEchoVideo, ResizeClip,
                                             SampleClipFrames)
    results = dict(info)
    for t in (LoadEchoVideo(), LoadEchoAnnotations(), SampleClipFrames(num_frames=num_frames)):
        results = t(results)
    if scale is not None:
        results = ResizeClip(scale=scale, keep_ori_masks=True)(results)
    return results


def load_tool(relative_path: str):
    """Import a script under the repository's ``tools/`` (e.g. ``'analysis/get_flops.py'``)
    as a module, so tests can call its ``main(argv)`` and helpers in-process."""
    import importlib.util
    import os.path as osp
    root = osp.dirname(osp.dirname(osp.abspath(__file__)))
    path = osp.join(root, 'tools', relative_path)
    name = 'echoseg_tool_' + osp.splitext(relative_path)[0].replace('/', '_')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
