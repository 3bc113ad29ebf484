"""EF (and EDV/ESV) regression and Bland-Altman plots from an EchoMetric dump.

    python tools/analysis/ef_plots.py work_dirs/x/results.json --out-dir work_dirs/x/plots
    python tools/analysis/ef_plots.py work_dirs/x/results_ef.csv --quantities EF EDV
"""
import argparse
import os.path as osp
import sys

from echoseg.evaluation.results_io import load_results
from echoseg.visualization.clinical_plots import save_agreement_plots


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('results', help='JSON dump or its _ef.csv')
    parser.add_argument('--out-dir', default=None, help='default: beside the results')
    parser.add_argument('--quantities', nargs='+', default=['EF', 'EDV', 'ESV'],
                        choices=['EF', 'EDV', 'ESV'])
    parser.add_argument('--name', default=None, help='file name prefix (default: stem)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cases = load_results(args.results)['ef_cases']
    if not cases:
        sys.exit(f'no EF cases in {args.results}')
    out_dir = args.out_dir or osp.dirname(osp.abspath(args.results))
    name = args.name or osp.splitext(osp.basename(args.results))[0]
    written = save_agreement_plots(cases, out_dir, name, args.quantities)
    for path in written:
        print(path)
    if not written:
        print('no quantity with both predicted and reference values')
    return written


if __name__ == '__main__':
    main()
