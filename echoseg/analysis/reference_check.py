"""Reference-equivalence check: echoseg's modules against the authors' released files.

``tools/analysis/check_against_reference.py METHOD REF_DIR`` imports the authors' file(s)
from REF_DIR (outside the repository, never vendored), builds echoseg's ``authors`` preset
of the same modules, copies the authors' weights into it through a documented name map,
runs both in eval mode on the same input and reports, per output, the largest absolute
difference relative to the output's scale (its largest absolute value). The check passes
when every relative difference is at most ``tol`` (1e-4, float32, CPU).

This module is the method-independent part:

- :class:`MapRule` / :func:`map_state_dict`: the name map. Every entry of the reference's
  state dict must match exactly one rule (a full-match regular expression); a rule either
  renames (``target``, a ``re`` replacement template), or names an entry the reference's
  forward never reads (``target=None``, left out with its reason). Every entry of echoseg's
  state dict must be filled exactly once, with the same shape (``op='reshape'``: the same
  number of elements; ``op='row'``: the target ``name[i]`` is row i of a stacked tensor).
- :func:`set_batchnorm_statistics`: non-trivial batch-norm statistics and affine
  parameters (set on the reference before the copy, so both models get them).
- :func:`compare_outputs`, :func:`format_report`, :func:`run_check`.
- :func:`load_reference_module`: imports a reference file under the stand-ins of
  :mod:`echoseg.analysis.reference_stubs`;
- :func:`main`: the tool's command line.

The method-specific parts (which files, which preset, which map, which outputs) are
:class:`ReferenceCase` builders in ``reference_pkechonet``, ``reference_mssnet`` (SSG)
``reference_mssnet_rac`` and ``reference_mssnet_doc`` (:data:`METHODS`).
"""
import hashlib
import importlib
import importlib.util
import os.path as osp
import re
import sys
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from .reference_stubs import stand_ins

#: method name -> module with ``REFERENCE_FILES`` and ``build_case(ref_dir, **options)``
METHODS = {
    'pkechonet': 'echoseg.analysis.reference_pkechonet',
    'mssnet': 'echoseg.analysis.reference_mssnet',
    'mssnet_rac': 'echoseg.analysis.reference_mssnet_rac',
    'mssnet_doc': 'echoseg.analysis.reference_mssnet_doc',
}

DEFAULT_TOL = 1e-4


class ReferenceCheckError(RuntimeError):
    """A problem with the reference files, the name map or the environment."""


@dataclass(frozen=True)
class MapRule:
    """One line of a name map: reference key pattern -> echoseg key (or left out)."""

    pattern: str
    target: Optional[str]
    op: str = 'copy'
    note: str = ''

    def __post_init__(self):
        if self.op not in ('copy', 'reshape', 'row'):
            raise ValueError(f'MapRule {self.pattern!r}: unknown op {self.op!r}')


@dataclass(frozen=True)
class ReferenceFile:
    """A file of an authors' repository at a named commit (git blob id for identity)."""

    repo: str
    commit: str
    path: str
    blob: str


@dataclass
class ReferenceCase:
    """Everything :func:`run_check` needs for one method.

    ``run_theirs`` / ``run_ours`` map the (shared) input to a dict of named outputs;
    ``prepare`` rewrites the reference's state dict before the map (e.g. folds a conv bias
    into the following batch norm); ``calibrate`` runs the reference in training mode
    for :func:`set_batchnorm_statistics`; ``bench_theirs`` / ``bench_ours`` are the plain
    forward passes :func:`time_pair` times (default: ``run_theirs`` / ``run_ours``).
    """

    name: str
    theirs: nn.Module
    ours: nn.Module
    rules: Sequence[MapRule]
    inputs: Tensor
    run_theirs: Callable[[Tensor], Dict[str, Tensor]]
    run_ours: Callable[[Tensor], Dict[str, Tensor]]
    prepare: Optional[Callable[[Dict[str, Tensor]], Dict[str, Tensor]]] = None
    calibrate: Optional[Callable[[], None]] = None
    bench_theirs: Optional[Callable[[Tensor], object]] = None
    bench_ours: Optional[Callable[[Tensor], object]] = None
    notes: List[str] = field(default_factory=list)


@dataclass
class Difference:
    """Largest absolute difference of one output and the output's scale."""

    name: str
    shape: Tuple[int, ...]
    max_abs: float
    scale: float

    @property
    def rel(self) -> float:
        return self.max_abs / self.scale if self.scale > 0 else self.max_abs


@dataclass
class CheckResult:
    differences: List[Difference]
    left_out: List[str]
    tol: float

    @property
    def ok(self) -> bool:
        return bool(self.differences) and all(d.rel <= self.tol for d in self.differences)


# ---------------------------------------------------------------------------- name map
def _match(key: str, rules: Sequence[MapRule]) -> Tuple[MapRule, re.Match]:
    hits = [(r, m) for r in rules for m in [re.fullmatch(r.pattern, key)] if m]
    if len(hits) != 1:
        raise ReferenceCheckError(
            f'name map: reference entry {key!r} matches {len(hits)} rules '
            f'({[r.pattern for r, _ in hits]}); it must match exactly one')
    return hits[0]


def map_state_dict(source: Dict[str, Tensor], rules: Sequence[MapRule],
                   target: Dict[str, Tensor]) -> Tuple[Dict[str, Tensor], List[str]]:
    """The reference's ``source`` state dict renamed into ``target``'s keys.

    Returns (a complete state dict for ``target``'s module, the reference keys left out).
    Raises :class:`ReferenceCheckError` for an unmatched or ambiguous reference key, an
    unknown echoseg key, a shape mismatch, a key filled twice or a key left unfilled.
    """
    out: Dict[str, Tensor] = {}
    rows: Dict[str, Dict[int, Tensor]] = {}
    left_out = []
    for key, value in source.items():
        rule, m = _match(key, rules)
        if rule.target is None:
            left_out.append(key)
            continue
        name = m.expand(rule.target)
        if rule.op == 'row':
            rm = re.fullmatch(r'(.+)\[(\d+)\]', name)
            if rm is None:
                raise ReferenceCheckError(f'name map: row rule {rule.pattern!r} gave {name!r},'
                                          ' expected "key[index]"')
            name, index = rm.group(1), int(rm.group(2))
        if name not in target:
            raise ReferenceCheckError(f'name map: {key!r} -> {name!r}, which echoseg\'s '
                                      'module does not have')
        want = target[name]
        if rule.op == 'row':
            if index >= want.shape[0] or tuple(value.shape) != tuple(want.shape[1:]):
                raise ReferenceCheckError(
                    f'name map: {key!r} {tuple(value.shape)} does not fit as row {index} of '
                    f'{name!r} {tuple(want.shape)}')
            if index in rows.setdefault(name, {}):
                raise ReferenceCheckError(f'name map: row {index} of {name!r} filled twice')
            rows[name][index] = value
            continue
        if name in out:
            raise ReferenceCheckError(f'name map: {name!r} filled twice (again from {key!r})')
        if rule.op == 'reshape':
            if value.numel() != want.numel():
                raise ReferenceCheckError(f'name map: {key!r} {tuple(value.shape)} cannot be '
                                          f'reshaped to {name!r} {tuple(want.shape)}')
            value = value.reshape(want.shape)
        elif tuple(value.shape) != tuple(want.shape):
            raise ReferenceCheckError(f'name map: {key!r} {tuple(value.shape)} -> {name!r} '
                                      f'{tuple(want.shape)}: shapes differ')
        out[name] = value.clone()
    for name, parts in rows.items():
        if name in out or sorted(parts) != list(range(target[name].shape[0])):
            raise ReferenceCheckError(f'name map: rows {sorted(parts)} of {name!r} do not '
                                      f'cover its {target[name].shape[0]} rows exactly')
        out[name] = torch.stack([parts[i] for i in range(len(parts))]).to(target[name].dtype)
    missing = [k for k in target if k not in out]
    if missing:
        raise ReferenceCheckError(f'name map: echoseg entries left unfilled: {missing}')
    return out, left_out


def copy_weights(theirs: nn.Module, ours: nn.Module, rules: Sequence[MapRule],
                 prepare: Optional[Callable] = None) -> List[str]:
    """Load ``theirs``'s parameters and buffers into ``ours`` through the map; returns the
    reference keys left out."""
    source = theirs.state_dict()
    if prepare is not None:
        source = prepare(dict(source))
    mapped, left_out = map_state_dict(source, rules, ours.state_dict())
    ours.load_state_dict(mapped, strict=True)
    return left_out


# ---------------------------------------------------------------------------- statistics
def set_batchnorm_statistics(module: nn.Module, generator: torch.Generator,
                             calibrate: Optional[Callable[[], None]] = None) -> int:
    """Give every batch norm of ``module`` non-trivial affine parameters and statistics.

    Affine weights ~ U(0.5, 1.5), biases ~ N(0, 0.1^2); then, when ``calibrate`` is given
    (a forward pass of the model in training mode, no gradient), the running statistics
    are the cumulative average over that pass (so activations stay in range through deep
    networks), and finally every mean is shifted by N(0, (0.1 sd)^2) and every variance
    scaled by U(0.7, 1.4). Without ``calibrate``: means ~ N(0, 0.1^2), variances
    ~ U(0.5, 2). Returns the number of batch-norm layers.
    """
    bns = [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]

    def rand(shape, lo, hi):
        return torch.rand(shape, generator=generator) * (hi - lo) + lo

    with torch.no_grad():
        for bn in bns:
            if bn.affine:
                bn.weight.copy_(rand(bn.weight.shape, 0.5, 1.5))
                bn.bias.copy_(torch.randn(bn.bias.shape, generator=generator) * 0.1)
        if calibrate is not None:
            saved = [(bn, bn.momentum) for bn in bns]
            for bn in bns:
                bn.reset_running_stats()
                bn.momentum = None  # cumulative average
            was_training = module.training
            module.train()
            try:
                calibrate()
            finally:
                module.train(was_training)
                for bn, momentum in saved:
                    bn.momentum = momentum
        for bn in bns:
            if not bn.track_running_stats:
                continue
            n = bn.running_mean.shape
            if calibrate is None:
                bn.running_mean.copy_(torch.randn(n, generator=generator) * 0.1)
                bn.running_var.copy_(rand(n, 0.5, 2.0))
            else:
                sd = bn.running_var.clamp_min(1e-6).sqrt()
                bn.running_mean.add_(torch.randn(n, generator=generator) * 0.1 * sd)
                bn.running_var.mul_(rand(n, 0.7, 1.4))
            bn.num_batches_tracked.fill_(int(torch.randint(1, 1000, (1, ),
                                                           generator=generator)))
    return len(bns)


# ---------------------------------------------------------------------------- comparison
def compare_outputs(ours: Dict[str, Tensor], theirs: Dict[str, Tensor]) -> List[Difference]:
    """Per output name (``theirs``'s order): largest |ours - theirs| and max |theirs|."""
    if set(ours) != set(theirs):
        raise ReferenceCheckError(f'outputs differ in name: ours {sorted(ours)}, '
                                  f'theirs {sorted(theirs)}')
    out = []
    for name, ref in theirs.items():
        mine = ours[name]
        if tuple(mine.shape) != tuple(ref.shape):
            raise ReferenceCheckError(f'output {name!r}: shapes differ, ours '
                                      f'{tuple(mine.shape)}, theirs {tuple(ref.shape)}')
        ref64, mine64 = ref.detach().double(), mine.detach().double()
        if not (torch.isfinite(ref64).all() and torch.isfinite(mine64).all()):
            out.append(Difference(name, tuple(ref.shape), float('inf'), 1.0))
            continue
        out.append(Difference(name, tuple(ref.shape), float((mine64 - ref64).abs().max()),
                              float(ref64.abs().max())))
    return out


def format_report(result: CheckResult, title: str = '') -> str:
    """A plain-text table of the differences and the verdict."""
    lines = [title] if title else []
    width = max([len(d.name) for d in result.differences] + [6])
    lines.append(f'{"output":<{width}}  {"shape":<22} {"max |ours-theirs|":>18} '
                 f'{"max |theirs|":>13} {"relative":>10}')
    for d in result.differences:
        lines.append(f'{d.name:<{width}}  {str(d.shape):<22} {d.max_abs:>18.3e} '
                     f'{d.scale:>13.3e} {d.rel:>10.2e}')
    if result.left_out:
        lines.append(f'reference entries left out (unused by its forward): '
                     f'{", ".join(result.left_out)}')
    worst = max((d.rel for d in result.differences), default=float('inf'))
    lines.append(f'{"PASS" if result.ok else "FAIL"}: largest relative difference '
                 f'{worst:.2e} (tolerance {result.tol:.0e})')
    return '\n'.join(lines)


def run_check(case: ReferenceCase, tol: float = DEFAULT_TOL, seed: int = 0) -> CheckResult:
    """BN statistics on the reference, weights copied through the map, both in eval mode
    on ``case.inputs``, outputs compared."""
    gen = torch.Generator().manual_seed(seed)
    set_batchnorm_statistics(case.theirs, gen, case.calibrate)
    left_out = copy_weights(case.theirs, case.ours, case.rules, case.prepare)
    case.theirs.eval()
    case.ours.eval()
    with torch.no_grad():
        theirs = case.run_theirs(case.inputs.clone())
        ours = case.run_ours(case.inputs.clone())
    return CheckResult(compare_outputs(ours, theirs), left_out, tol)


def time_pair(case: ReferenceCase, runs: int = 5, warmup: int = 1) -> Dict[str, object]:
    """Median seconds per forward pass of both models on ``case.inputs`` (eval mode, no
    gradient, one process), runs interleaved with alternating order; ratio = ours/theirs."""
    import statistics
    import time
    fns = dict(theirs=case.bench_theirs or case.run_theirs,
               ours=case.bench_ours or case.run_ours)
    case.theirs.eval()
    case.ours.eval()
    times: Dict[str, List[float]] = dict(theirs=[], ours=[])
    with torch.no_grad():
        for _ in range(warmup):
            for fn in fns.values():
                fn(case.inputs)
        for i in range(runs):
            for name in (('theirs', 'ours') if i % 2 == 0 else ('ours', 'theirs')):
                start = time.perf_counter()
                fns[name](case.inputs)
                times[name].append(time.perf_counter() - start)
    med = {k: statistics.median(v) for k, v in times.items()}
    ratios = [o / t for o, t in zip(times['ours'], times['theirs'])]
    return dict(theirs=med['theirs'], ours=med['ours'], ratio=med['ours'] / med['theirs'],
                ratio_median_of_runs=statistics.median(ratios), runs=runs,
                threads=torch.get_num_threads(), times=times)


def quiet_init_weights(model: nn.Module) -> None:
    """``model.init_weights()`` without MMEngine's per-parameter log lines."""
    import logging

    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)


# ---------------------------------------------------------------------------- references
def git_blob_id(path: str) -> str:
    """The git blob id of a file (``git hash-object``)."""
    with open(path, 'rb') as f:
        data = f.read()
    return hashlib.sha1(b'blob %d\0' % len(data) + data).hexdigest()


def find_reference_file(ref_dir: str, ref: ReferenceFile) -> str:
    """REF_DIR/<path in the repository>, or REF_DIR/<file name>; a clear error otherwise."""
    for cand in (osp.join(ref_dir, ref.path), osp.join(ref_dir, osp.basename(ref.path))):
        if osp.isfile(cand):
            return cand
    raise ReferenceCheckError(
        f'{ref_dir}: no {ref.path} (the file of {ref.repo} at commit {ref.commit}); bring '
        f'it with: git -C <clone of {ref.repo}> show {ref.commit}:{ref.path} > '
        f'{osp.join(ref_dir, ref.path)}')


def describe_reference(path: str, ref: ReferenceFile) -> str:
    """One line: the file, and whether it is the named commit's file (blob id)."""
    blob = git_blob_id(path)
    same = 'the file' if blob == ref.blob else 'NOT the file (blob differs)'
    return f'{path}: {same} of {ref.repo}@{ref.commit}:{ref.path} (blob {blob[:10]})'


def repo_root() -> str:
    """The folder holding this package (the repository, for a source checkout)."""
    return osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def resolve_config(path: str) -> str:
    """``path`` as given, else relative to :func:`repo_root` (the methods' default configs
    are repository paths, e.g. ``configs/pkechonet/...``)."""
    if osp.isfile(path) or osp.isabs(path):
        return path
    candidate = osp.join(repo_root(), path)
    return candidate if osp.isfile(candidate) else path


def load_reference_module(path: str, needs: Sequence[str] = ('einops', )):
    """Import an authors' file under the torchvision / timm stand-ins.

    ``needs``: real packages the file imports that are not stood in for; a missing one
    stops with how to install it.
    """
    for name in needs:
        if importlib.util.find_spec(name) is None:
            raise ReferenceCheckError(
                f'{path} imports {name!r}, which is not installed: pip install {name} '
                f'(tools/setup_env.sh installs it as an optional package; setup.py extra '
                f'"reference")')
    mod_name = '_echoseg_reference_' + re.sub(r'\W', '_', osp.splitext(osp.basename(path))[0])
    spec = importlib.util.spec_from_file_location(mod_name, path)
    module = importlib.util.module_from_spec(spec)
    with stand_ins():
        try:
            spec.loader.exec_module(module)
        except Exception as exc:  # the file is not ours: say which one failed
            raise ReferenceCheckError(f'{path}: import failed: {exc!r}') from exc
    return module


def build_case(method: str, ref_dir: str, **options) -> Tuple[ReferenceCase, List[str]]:
    """(the method's case, one identity line per reference file)."""
    if method not in METHODS:
        raise ReferenceCheckError(f'unknown method {method!r}; choose from {sorted(METHODS)}')
    if not osp.isdir(ref_dir):
        raise ReferenceCheckError(f'{ref_dir}: not a directory (REF_DIR must hold the '
                                  "authors' files)")
    mod = importlib.import_module(METHODS[method])
    paths = [find_reference_file(ref_dir, ref) for ref in mod.REFERENCE_FILES]
    lines = [describe_reference(p, ref) for p, ref in zip(paths, mod.REFERENCE_FILES)]
    return mod.build_case(paths, **options), lines


# ---------------------------------------------------------------------------- command line
def parse_args(argv=None):
    """The tool's arguments."""
    import argparse
    parser = argparse.ArgumentParser(
        description="Check echoseg's modules against the authors' released files")
    parser.add_argument('method', choices=sorted(METHODS))
    parser.add_argument('ref_dir', help="folder with the authors' file(s), outside the repo")
    parser.add_argument('--config', help="echoseg's model config (default: the method's)")
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--tol', type=float, default=DEFAULT_TOL)
    parser.add_argument('--threads', type=int, default=None, help='torch threads')
    parser.add_argument('--time', type=int, default=0, metavar='RUNS',
                        help='also time both forward passes, RUNS interleaved runs')
    parser.add_argument('--print-map', action='store_true', help='print the name map')
    parser.add_argument('--batch', type=int, default=2, help='pkechonet: clips')
    parser.add_argument('--frames', type=int, default=10, help='pkechonet: frames per clip')
    parser.add_argument('--size', type=int, default=320, help='pkechonet: input size')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """The command line of tools/analysis/check_against_reference.py; the exit status."""
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    ref_dir = osp.abspath(args.ref_dir)
    root = repo_root()
    if osp.commonpath([ref_dir, root]) == root:
        print(f'error: {ref_dir} is inside the repository; keep the authors\' files in a '
              'scratch folder outside it', file=sys.stderr)
        return 2
    options = dict(seed=args.seed)
    if args.config:
        options['config'] = args.config
    if args.method == 'pkechonet':
        options.update(batch=args.batch, frames=args.frames, size=args.size)
    try:
        case, identity = build_case(args.method, ref_dir, **options)
        if args.print_map:
            for rule in case.rules:
                print(f'{rule.pattern:<55} -> {rule.target or "(left out)"}'
                      f'{" [" + rule.op + "]" if rule.op != "copy" else ""}'
                      f'{"  # " + rule.note if rule.note else ""}')
        result = run_check(case, tol=args.tol, seed=args.seed)
    except ReferenceCheckError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    params = {k: sum(p.numel() for p in m.parameters())
              for k, m in (('theirs', case.theirs), ('ours', case.ours))}
    print('\n'.join(identity + case.notes))
    print(f'parameters: theirs {params["theirs"]:,}, ours {params["ours"]:,}; '
          f'torch {torch.__version__}, {torch.get_num_threads()} threads')
    print(format_report(result, f'{case.name}: seed {args.seed}'))
    if args.time:
        t = time_pair(case, runs=args.time)
        print(f'time per forward pass (median of {t["runs"]} interleaved runs, '
              f'{t["threads"]} threads): theirs {t["theirs"]:.3f} s, ours {t["ours"]:.3f} s, '
              f'ours / theirs {t["ratio"]:.3f} (median of per-run ratios '
              f'{t["ratio_median_of_runs"]:.3f})')
    return 0 if result.ok else 1
