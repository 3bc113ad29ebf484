"""EF (and EDV/ESV) regression and Bland-Altman plots from an EchoMetric dump.

    python tools/analysis/ef_plots.py work_dirs/x/results.json --out-dir work_dirs/x/plots
    python tools/analysis/ef_plots.py work_dirs/x/results_ef.csv --quantities EF EDV
"""
import argparse
import os
import os.path as osp
import sys

import numpy as np

from echoseg.evaluation.results_io import load_results
from echoseg.visualization.clinical_plots import (bland_altman_plot, regression_plot,
                                                  save_figure)


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
    os.makedirs(out_dir, exist_ok=True)
    name = args.name or osp.splitext(osp.basename(args.results))[0]
    written = []
    for q in args.quantities:
        pred = np.array([float(c[f'{q.lower()}_pred']) for c in cases])
        ref = np.array([float(c[f'{q.lower()}_ref']) for c in cases])
        if not np.any(np.isfinite(pred) & np.isfinite(ref)):
            print(f'{q}: no case with both values, skipped')
            continue
        unit = '%' if q == 'EF' else str(cases[0].get('volume_unit', ''))
        for kind, plot in (('regression', regression_plot), ('bland_altman',
                                                              bland_altman_plot)):
            path = osp.join(out_dir, f'{name}_{q}_{kind}.png')
            save_figure(plot(pred, ref, quantity=q, unit=unit), path)
            written.append(path)
            print(path)
    return written


if __name__ == '__main__':
    main()
