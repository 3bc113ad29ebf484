"""The reference check's machinery on a synthetic pair of modules (no authors' file)."""
import os
import os.path as osp
import subprocess
import sys
import textwrap

import pytest
import torch
from torch import nn

from echoseg.analysis.reference_check import (MapRule, ReferenceCase, ReferenceCheckError,
                                              ReferenceFile, compare_outputs, copy_weights,
                                              describe_reference, format_report,
                                              git_blob_id, load_reference_module,
                                              map_state_dict, run_check,
                                              set_batchnorm_statistics)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


class Theirs(nn.Module):
    """Authors-style names: a Sequential body, a list of per-stage biases, an unused layer."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(4), nn.ReLU())
        self.head = nn.Conv2d(4, 2, 1)
        self.pos = nn.Parameter(torch.randn(1, 2))
        self.biases = nn.ParameterList([nn.Parameter(torch.randn(2)) for _ in range(3)])
        self.unused = nn.Linear(2, 2)

    def forward(self, x):
        y = self.head(self.body(x)) + self.pos.view(1, 2, 1, 1)
        return {f'stage{i}': y + b.view(1, 2, 1, 1) for i, b in enumerate(self.biases)}


class Ours(nn.Module):
    """The same computation under echoseg-style names."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(4)
        self.cls = nn.Conv2d(4, 2, 1)
        self.pos = nn.Parameter(torch.zeros(2))
        self.stage_bias = nn.Parameter(torch.zeros(3, 2))

    def forward(self, x):
        y = self.cls(torch.relu(self.bn(self.conv(x)))) + self.pos.view(1, 2, 1, 1)
        return {f'stage{i}': y + b.view(1, 2, 1, 1) for i, b in enumerate(self.stage_bias)}


RULES = [
    MapRule(r'body\.0\.weight', 'conv.weight'),
    MapRule(r'body\.1\.(.+)', r'bn.\1'),
    MapRule(r'head\.(.+)', r'cls.\1'),
    MapRule(r'pos', 'pos', op='reshape'),
    MapRule(r'biases\.(\d+)', r'stage_bias[\1]', op='row'),
    MapRule(r'unused\.(.+)', None, note='never read'),
]


def _case(rules=RULES, prepare=None, seed=0):
    torch.manual_seed(seed)
    theirs, ours = Theirs(), Ours()
    x = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(seed))
    return ReferenceCase('pair', theirs, ours, rules, x, theirs, ours, prepare=prepare,
                         calibrate=lambda: theirs(x))


def test_name_map_puts_every_value_where_the_rules_say():
    theirs, ours = Theirs(), Ours()
    mapped, left_out = map_state_dict(theirs.state_dict(), RULES, ours.state_dict())
    assert set(mapped) == set(ours.state_dict())
    assert sorted(left_out) == ['unused.bias', 'unused.weight']
    torch.testing.assert_close(mapped['conv.weight'], theirs.body[0].weight.detach())
    torch.testing.assert_close(mapped['bn.running_var'], theirs.body[1].running_var)
    torch.testing.assert_close(mapped['pos'], theirs.pos.detach().view(2))
    for i in range(3):  # rows in the order of the reference's list
        torch.testing.assert_close(mapped['stage_bias'][i], theirs.biases[i].detach())


@pytest.mark.parametrize('rules, message', [
    (RULES[:-1], 'matches 0 rules'),                                        # unmatched key
    (RULES + [MapRule(r'head\.weight', 'cls.weight')], 'matches 2 rules'),  # ambiguous
    ([MapRule(r'head\.(.+)', r'classifier.\1')] + RULES[:2] + RULES[3:], 'does not have'),
    ([MapRule(r'pos', 'pos')] + RULES[:3] + RULES[4:], 'shapes differ'),
    ([MapRule(r'body\.0\.weight', None)] + RULES[1:], 'left unfilled'),
    ([MapRule(r'biases\.(\d+)', r'stage_bias[0]', op='row')] + RULES[:4] + RULES[5:],
     'filled twice'),
])
def test_name_map_errors_say_what_is_wrong(rules, message):
    with pytest.raises(ReferenceCheckError, match=message):
        map_state_dict(Theirs().state_dict(), rules, Ours().state_dict())


def test_equal_pair_passes():
    case = _case()
    result = run_check(case, tol=1e-4)
    assert result.ok
    assert [d.name for d in result.differences] == ['stage0', 'stage1', 'stage2']
    assert max(d.rel for d in result.differences) < 1e-6
    assert 'PASS' in format_report(result)


def test_perturbed_weight_fails():
    def perturb(state):
        state = dict(state)
        state['head.weight'] = state['head.weight'] + 1e-2
        return state

    result = run_check(_case(prepare=perturb), tol=1e-4)
    assert not result.ok
    assert min(d.rel for d in result.differences) > 1e-4
    assert 'FAIL' in format_report(result)


def test_a_plausible_but_wrong_map_fails():
    # stage biases in reverse order: every entry filled, the outputs no longer agree
    rev = [r for r in RULES if r.op != 'row'] + [
        MapRule(r'biases\.0', 'stage_bias[2]', op='row'),
        MapRule(r'biases\.1', 'stage_bias[1]', op='row'),
        MapRule(r'biases\.2', 'stage_bias[0]', op='row')]
    result = run_check(_case(rev), tol=1e-4)
    assert not result.ok
    rel = {d.name: d.rel for d in result.differences}
    assert rel['stage1'] < 1e-6 and rel['stage0'] > 1e-4 and rel['stage2'] > 1e-4


def test_compare_outputs_against_an_independent_computation():
    a = {'x': torch.tensor([1.0, -4.0, 2.0])}
    b = {'x': torch.tensor([1.5, -4.0, 2.0])}
    (d, ) = compare_outputs(b, a)
    assert d.max_abs == pytest.approx(0.5) and d.scale == pytest.approx(4.0)
    assert d.rel == pytest.approx(0.125)
    with pytest.raises(ReferenceCheckError, match='shape'):
        compare_outputs({'x': torch.zeros(2)}, a)
    with pytest.raises(ReferenceCheckError, match='name'):
        compare_outputs({'y': torch.zeros(3)}, a)
    (nan, ) = compare_outputs({'x': torch.tensor([float('nan'), 0.0, 0.0])}, a)
    assert nan.rel == float('inf')


def test_batchnorm_statistics_are_non_trivial_and_follow_the_data():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 6, 1), nn.BatchNorm2d(6))
    x = torch.randn(16, 3, 4, 4) * 3 + 1
    assert set_batchnorm_statistics(model, torch.Generator().manual_seed(0)) == 1
    bn = model[1]
    assert bn.running_var.min() >= 0.5 and bn.running_var.max() <= 2.0
    assert bn.running_mean.abs().max() > 0 and (bn.weight != 1).all()
    set_batchnorm_statistics(model, torch.Generator().manual_seed(1), lambda: model(x))
    with torch.no_grad():
        y = model[0](x)
    mean, var = y.mean((0, 2, 3)), y.var((0, 2, 3), unbiased=True)
    sd = var.sqrt()
    assert ((bn.running_mean - mean).abs() <= 0.5 * sd).all()      # shifted by N(0, 0.1 sd)
    ratio = bn.running_var / var
    assert ((ratio >= 0.69) & (ratio <= 1.41)).all()               # scaled by U(0.7, 1.4)
    assert bn.momentum == 0.1 and model.training                     # restored


def test_copy_weights_loads_strictly_and_reports_left_out():
    theirs, ours = Theirs(), Ours()
    left = copy_weights(theirs, ours, RULES)
    assert sorted(left) == ['unused.bias', 'unused.weight']
    x = torch.randn(1, 3, 5, 5)
    theirs.eval(), ours.eval()
    for k, v in theirs(x).items():
        torch.testing.assert_close(ours(x)[k], v)


def test_reference_file_is_imported_under_the_stand_ins(tmp_path):
    path = tmp_path / 'Model.py'
    path.write_text(textwrap.dedent('''
        import torch.nn as nn
        from torchvision import models
        from timm.models.layers import DropPath, trunc_normal_

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.enc = models.resnet18(pretrained=True)
                self.drop = DropPath(0.1)
    '''))
    before = {m: sys.modules.get(m) for m in ('torchvision', 'timm')}
    module = load_reference_module(str(path), needs=())
    net = module.Net()
    assert type(net.enc).__module__ == 'echoseg.analysis.reference_stubs'
    assert {m: sys.modules.get(m) for m in ('torchvision', 'timm')} == before
    with pytest.raises(ReferenceCheckError, match='pip install no_such_pkg_xyz'):
        load_reference_module(str(path), needs=('no_such_pkg_xyz', ))


def test_reference_identity_uses_the_git_blob_id(tmp_path):
    path = tmp_path / 'f.py'
    path.write_bytes(b'print(1)\n')
    # git hash-object of 'print(1)\n', computed independently by git's definition
    import hashlib
    expected = hashlib.sha1(b'blob 9\x00print(1)\n').hexdigest()
    assert git_blob_id(str(path)) == expected
    ref = ReferenceFile('a/b', 'abc1234', 'f.py', expected)
    assert 'the file of a/b@abc1234:f.py' in describe_reference(str(path), ref)
    other = ReferenceFile('a/b', 'abc1234', 'f.py', '0' * 40)
    assert 'NOT the file' in describe_reference(str(path), other)


def _env():
    return dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get('PYTHONPATH', ''))


@pytest.mark.parametrize('method, expected', [('pkechonet', 'models/PKEchoNet.py'),
                                              ('mssnet', 'SSG.py'), ('mssnet_rac', 'RAC.py'),
                                              ('mssnet_doc', 'DOC.py')])
def test_cli_says_which_file_is_missing(method, expected, tmp_path):
    tool = osp.join(ROOT, 'tools', 'analysis', 'check_against_reference.py')
    proc = subprocess.run([sys.executable, tool, method, str(tmp_path)], capture_output=True,
                          text=True, timeout=300, env=_env())
    assert proc.returncode == 2
    assert expected in proc.stderr and 'git -C' in proc.stderr


def test_cli_refuses_a_reference_folder_inside_the_repository():
    tool = osp.join(ROOT, 'tools', 'analysis', 'check_against_reference.py')
    proc = subprocess.run([sys.executable, tool, 'mssnet', osp.join(ROOT, 'configs')],
                          capture_output=True, text=True, timeout=300, env=_env())
    assert proc.returncode == 2 and 'inside the repository' in proc.stderr
