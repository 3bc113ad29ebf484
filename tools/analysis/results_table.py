"""A results table in the papers' style (mDice, mIoU, mHD95, mASD, EF corr / bias / sd /
MAE) from one or more EchoMetric dumps.

    python tools/analysis/results_table.py a/results.json b/results.json --names A B
"""
import argparse
import os.path as osp

from echoseg.evaluation.analysis import results_table
from echoseg.evaluation.results_io import load_results


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('results', nargs='+', help='JSON dumps (or _clips.csv files)')
    parser.add_argument('--names', nargs='+', default=None,
                        help='row names (default: the dumps\' folder names)')
    parser.add_argument('--format', default='markdown', choices=['markdown', 'csv'])
    parser.add_argument('--out', default=None, help='also write the table to this file')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    names = args.names or [osp.basename(osp.dirname(osp.abspath(p))) for p in args.results]
    if len(names) != len(args.results):
        raise SystemExit(f'{len(names)} names for {len(args.results)} result files')
    table = results_table([(n, load_results(p)) for n, p in zip(names, args.results)],
                          fmt=args.format)
    print(table, end='')
    if args.out:
        with open(args.out, 'w') as f:
            f.write(table)
    return table


if __name__ == '__main__':
    main()
