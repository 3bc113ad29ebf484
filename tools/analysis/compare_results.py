"""Paired comparison of two EchoMetric dumps: per-clip score difference and the Wilcoxon
signed-rank p-value.

    python tools/analysis/compare_results.py a/results.json b/results.json --key dice
"""
import argparse
import json

from echoseg.evaluation.analysis import paired_comparison
from echoseg.evaluation.results_io import load_results


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('results_a', help='JSON dump or _clips.csv of method A')
    parser.add_argument('results_b', help='JSON dump or _clips.csv of method B')
    parser.add_argument('--key', default='dice',
                        help='per-clip column to compare (dice, iou, hd95, asd, ...)')
    parser.add_argument('--names', nargs=2, default=['A', 'B'])
    parser.add_argument('--out', default=None, help='write the comparison as JSON')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    res = paired_comparison(load_results(args.results_a), load_results(args.results_b),
                            args.key)
    a, b = args.names
    print(f'{args.key}: {a} {res["mean_a"]:.4f} vs {b} {res["mean_b"]:.4f} over '
          f'{int(res["n"])} paired clips; mean {a} - {b} = {res["mean_diff"]:.4f} '
          f'(median {res["median_diff"]:.4f}); Wilcoxon W = {res["statistic"]:.1f}, '
          f'p = {res["pvalue"]:.4g}')
    for side, name in (('only_in_a', a), ('only_in_b', b)):
        if res[side]:
            print(f'{len(res[side])} clips only in {name} (not compared)')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(res, names=args.names), f, indent=1)
    return res


if __name__ == '__main__':
    main()
