"""Validate an EchoNet-Dynamic folder and print a report.

    python tools/dataset_converters/echonet_check.py data/echonet
    python tools/dataset_converters/echonet_check.py data/echonet --split-mode ratio

Checks every video listed in FileList.csv (file present, readable, not empty), its tracings
(two traced frames of 21 rows inside the video) and prints counts per split, frame counts,
ED/ES traced areas and every invalid video with its reason. Exit status 1 when any video
is invalid.
"""
import argparse
from collections import Counter

import numpy as np

from echoseg.datasets.echonet import EchoNetDynamicDataset


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('data_root', help='folder with Videos/, FileList.csv, VolumeTracings.csv')
    p.add_argument('--split-mode', choices=('column', 'ratio'), default='column')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--ratio', type=float, nargs=3, default=(0.7, 0.1, 0.2))
    p.add_argument('--no-video-check', action='store_true',
                   help='trust NumberOfFrames instead of opening every video')
    return p.parse_args(argv)


def _stats(values):
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return 'n/a'
    return f'min {v.min():.1f}, median {np.median(v):.1f}, max {v.max():.1f}'


def main(argv=None) -> int:
    args = parse_args(argv)
    ds = EchoNetDynamicDataset(
        data_root=args.data_root, split='all', split_mode=args.split_mode, seed=args.seed,
        ratio=tuple(args.ratio), check_videos=not args.no_video_check, skip_invalid=True,
        serialize_data=False)
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    print(f'EchoNet-Dynamic folder {args.data_root}')
    print(f'  {len(infos)} valid, {len(ds.skipped)} invalid videos')
    if args.split_mode == 'column':
        counts = Counter(str(i.get('split')) for i in infos)
        print('  Split column: ' + ', '.join(f'{k} {v}' for k, v in sorted(counts.items())))
    else:
        for split in ('train', 'val', 'test'):
            part = EchoNetDynamicDataset(
                data_root=args.data_root, split=split, split_mode='ratio', seed=args.seed,
                ratio=tuple(args.ratio), check_videos=False, skip_invalid=True)
            print(f'  ratio split {split}: {len(part)} valid videos')
    if infos:
        ed_first = sum(i['ed_frame'] < i['es_frame'] for i in infos)
        print(f'  frames per video: {_stats([i["num_frames"] for i in infos])}')
        for tag in ('ed', 'es'):
            areas = [i['tracing_areas'][i[f'{tag}_frame']] for i in infos]
            print(f'  {tag.upper()} traced area (px): {_stats(areas)}')
        print(f'  ED before ES in the video: {ed_first} of {len(infos)}')
        efs = [i['ef'] for i in infos if i['ef'] is not None]
        print(f'  EF (%): {_stats(efs)}')
    for case, reason in ds.skipped:
        print(f'  INVALID {case}: {reason}')
    return 1 if ds.skipped else 0
