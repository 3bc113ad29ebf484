"""echoseg.analysis.semi_supervision_scale (tools/experiments/semi_supervision_scale.py):
the paired table against a hand computation, and a tiny sweep whose two arms differ only
in the semi-supervised part, reused when run again."""
import json
import os.path as osp

import pytest
import torch

from echoseg.analysis import semi_supervision_scale as tool


def _run(mdice, pseudo=0.5, own=0.6, ef=10.0):
    return dict(metrics=dict(mDice=mdice, EF_MAE=ef), pseudo_dice=pseudo, own_dice=own)


def test_summary_pairs_the_arms_by_seed():
    runs = {'fcn': {8: {0: dict(off=_run(0.70), on=_run(0.75, pseudo=0.8)),
                        1: dict(off=_run(0.72), on=_run(0.71, pseudo=0.6)),
                        2: dict(off=_run(0.9), on=None)},        # unpaired: left out
                    32: {0: dict(off=_run(0.80), on=_run(0.82))}}}
    small, large = tool.summarise(runs)
    assert (small['size'], small['seeds'], large['size'], large['seeds']) == (8, 2, 32, 1)
    assert small['off']['mean'] == pytest.approx(0.71)
    assert small['on']['mean'] == pytest.approx(0.73)
    # paired: (+0.05, -0.01) -> mean +0.02, sd of the two differences
    assert small['gain']['mean'] == pytest.approx(0.02)
    assert small['gain']['sd'] == pytest.approx(((0.03 ** 2 + 0.03 ** 2) / 1) ** 0.5)
    assert small['pseudo_dice']['mean'] == pytest.approx(0.7)
    assert large['gain']['mean'] == pytest.approx(0.02) and large['gain']['sd'] is None
    table = tool.markdown([small, large], dict(methods=['fcn'], epochs=6, test_videos=16,
                                               seeds=[0, 1, 2]))
    rows = [line for line in table.splitlines() if line.startswith('| FCN-R18')]
    assert len(rows) == 2 and '+0.0200 ± 0.0424' in rows[0]


def test_iterations_give_every_size_the_same_steps():
    args = tool.parse_args(['--sizes', '8', '32', '128', '--iterations', '192'])
    assert [tool.epochs_for(n, args) for n in args.sizes] == [48, 12, 3]
    assert tool.epochs_for(5, args) == 77          # ceil(384 / 5): never fewer steps
    assert tool.epochs_for(8, tool.parse_args(['--epochs', '4'])) == 4


def test_tiny_sweep_runs_both_arms_and_reuses_them(tmp_path):
    threads = torch.get_num_threads()
    # --iterations 2 at 4 videos in batches of 2: one epoch
    argv = ['--methods', 'fcn', '--sizes', '4', '--seeds', '0', '--iterations', '2',
            '--test-videos', '2', '--image-size', '32', '--threads', '1',
            '--work-dir', str(tmp_path)]
    try:
        out = tool.main(argv)
    finally:
        torch.set_num_threads(threads)
    done = tmp_path / 'fcn' / 'n4_e1' / 'seed0' / 'ablation.json'
    saved = json.loads(done.read_text())
    off, on = (tool.arms(saved, 'fcn')[a] for a in ('off', 'on'))
    assert off['modules']['pseudo_labeler'] is None
    assert on['modules']['pseudo_labeler'] == 'SelfTrainingPseudoLabeler'
    assert off['modules']['decode_head'] == on['modules']['decode_head'] == 'FCNHead'
    # both arms on 10-frame clips: the on arm's pseudo-labels exist and are scored
    assert saved['settings']['num_frames'] == 10 and saved['settings']['batch_size'] == 2
    assert 0.0 <= on['pseudo_dice'] <= 1.0
    (row,) = out['rows']
    assert row['seeds'] == 1 and row['epochs'] == [1]
    assert row['gain']['mean'] == pytest.approx(on['metrics']['mDice'] - off['metrics']['mDice'])
    # a second call reads the finished run instead of training again
    stamp = done.stat().st_mtime_ns
    again = tool.main(argv + ['--table-only'])
    assert done.stat().st_mtime_ns == stamp
    assert again['rows'][0]['gain']['mean'] == pytest.approx(row['gain']['mean'])
    assert osp.isfile(tmp_path / 'semi_supervision_scale.md')
    # a finished run of other settings is not reused: an error names its folder
    key_file = done.parent / tool.RUN_KEY
    key_file.write_text(json.dumps(dict(run_key='0' * 64)))
    with pytest.raises(RuntimeError, match=str(done.parent)):
        tool.main(argv + ['--table-only'])
    key_file.unlink()                               # no key: not reused either
    with pytest.raises(RuntimeError, match='missing'):
        tool.main(argv + ['--table-only'])


def test_run_key_follows_the_configs_content_and_the_arguments(tmp_path):
    base = tmp_path / 'base.py'
    base.write_text('model = dict(type="A", width=8)\n')
    child = tmp_path / 'child.py'
    child.write_text('_base_ = ["./base.py"]\n')
    argv = ['--extra-configs', str(child), '--num-videos', '8']
    key = tool.run_key(argv)
    assert tool.run_key(list(argv)) == key
    assert tool.run_key(argv[:-1] + ['16']) != key
    base.write_text('model = dict(type="A", width=16)\n')   # the base the child inherits
    assert tool.run_key(argv) != key
