"""Regenerate, check or inspect the CAMUS patient-level split file.

    python tools/dataset_converters/camus_make_split.py                 # write seed 0
    python tools/dataset_converters/camus_make_split.py --check         # shipped == generated?
    python tools/dataset_converters/camus_make_split.py --show --data-root data/camus

The split orders patient0001..patient0500 by sha256(f'{seed}:{patient}') and cuts it 7:1:2,
so both views of a patient always fall in the same split.
"""
import argparse
import json
import os
import os.path as osp

from echoseg.datasets.camus import (SPLITS, default_split_file,
                                    find_patient_dirs, load_split_file, make_camus_split)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--ratio', type=float, nargs=3, default=(0.7, 0.1, 0.2),
                   metavar=('TRAIN', 'VAL', 'TEST'))
    p.add_argument('--num-patients', type=int, default=500)
    p.add_argument('--out', help='output JSON (default data_splits/camus_split_seed{seed}.json)')
    p.add_argument('--check', action='store_true',
                   help='compare the existing file with a fresh generation; exit 1 if they differ')
    p.add_argument('--show', action='store_true', help='print the counts of an existing file')
    p.add_argument('--split-file', help='file to --show (default the --out path)')
    p.add_argument('--data-root', help='with --show: count the patients found on disk per split')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    out = args.out or default_split_file(args.seed)
    generated = make_camus_split(args.seed, args.ratio, args.num_patients)
    if args.check:
        existing = load_split_file(out)
        same = all(existing[s] == generated[s] for s in SPLITS)
        print(f'{out}: {"matches" if same else "DIFFERS FROM"} the generated split '
              f'(seed {args.seed}, ratio {tuple(args.ratio)})')
        return 0 if same else 1
    if args.show:
        path = args.split_file or out
        split = load_split_file(path)
        on_disk = find_patient_dirs(args.data_root) if args.data_root else None
        print(f'{path}: no patient in two splits')
        for s in SPLITS:
            line = f'  {s:5s}: {len(split[s])} patients'
            if on_disk is not None:
                line += f', {sum(p in on_disk for p in split[s])} found in {args.data_root}'
            print(line)
        if on_disk is not None:
            listed = {p for s in SPLITS for p in split[s]}
            extra = sorted(set(on_disk) - listed)
            print(f'  patients on disk in no split: {len(extra)} {extra[:10]}')
        return 0
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with open(out, 'w') as f:
        json.dump(generated, f, indent=1)
        f.write('\n')
    print(f'wrote {out}: ' + ', '.join(f'{s} {len(generated[s])}' for s in SPLITS))
    return 0
