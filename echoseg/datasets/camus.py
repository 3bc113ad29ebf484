"""CAMUS (500 patients, apical 2CH and 4CH half cardiac cycles), as users download it.

Two releases are read, detected per patient:

- 2023 NIfTI (``database_nifti/patientXXXX``): ``patientXXXX_{2CH,4CH}_half_sequence.nii.gz``
  with ``_half_sequence_gt.nii.gz`` (every frame labelled), ``_ED/_ES[_gt].nii.gz``,
  ``Info_{2CH,4CH}.cfg``;
- 2019 MetaImage (``training/patientXXXX``): ``_sequence.mhd`` + ``.raw``, ED/ES masks only
  (``_ED_gt.mhd``, ``_ES_gt.mhd``), ``Info_{2CH,4CH}.cfg``.

ED/ES frame rule: the cfg's ``ED``/``ES`` are 1-based indices into the sequence whose length
is ``NbFrame``; they are used (minus one) when ``NbFrame`` equals the sequence's frame count.
When it does not, a 2023 half sequence is taken to be cut from ED to ES, so its first and
last frames are ED and ES (in the order the cfg gives); a 2019 sequence is an error.
"""
import hashlib
import json
import os
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence, Tuple, Union

from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from echoseg.io import read_volume_header
from echoseg.registry import DATASETS
from .errors import EchoDataError

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SPLIT_DIR = osp.join(REPO_ROOT, 'data_splits')
SPLITS = ('train', 'val', 'test')
CAMUS_VIEWS = ('2CH', '4CH')
#: raw CAMUS labels
CAMUS_LABELS = {0: 'background', 1: 'LV', 2: 'myocardium', 3: 'atrium'}
REQUIRED_CFG_KEYS = ('ED', 'ES', 'NbFrame')
IMAGE_EXTS = ('.nii.gz', '.nii', '.mhd', '.mha')
_PATIENT = re.compile(r'^patient\d+$')


# --------------------------------------------------------------------------- splits
def ratio_split(names: Sequence[str], ratio: Sequence[float] = (0.7, 0.1, 0.2),
                seed: int = 0) -> Dict[str, List[str]]:
    """Seeded train/val/test split of unique names.

    Names are ordered by ``sha256(f'{seed}:{name}')`` and cut at ``round(n * ratio)``: the
    result depends only on the names and the seed (no library RNG whose stream may change).
    """
    if len(ratio) != 3 or min(ratio) < 0 or sum(ratio) <= 0:
        raise ValueError(f'ratio must be three non-negative numbers, got {ratio}')
    total = float(sum(ratio))
    names = sorted(set(names))
    order = sorted(names, key=lambda n: hashlib.sha256(f'{seed}:{n}'.encode()).hexdigest())
    n = len(order)
    n_train = min(n, int(round(n * ratio[0] / total)))
    n_val = min(n - n_train, int(round(n * ratio[1] / total)))
    return dict(train=sorted(order[:n_train]), val=sorted(order[n_train:n_train + n_val]),
                test=sorted(order[n_train + n_val:]))


def standard_camus_patients(num_patients: int = 500) -> List[str]:
    return [f'patient{i:04d}' for i in range(1, num_patients + 1)]


def make_camus_split(seed: int = 0, ratio: Sequence[float] = (0.7, 0.1, 0.2),
                     num_patients: int = 500) -> Dict:
    """The patient-level split of the standard CAMUS patient list (patient0001..)."""
    split = ratio_split(standard_camus_patients(num_patients), ratio, seed)
    return dict(
        dataset='CAMUS', seed=seed, ratio=[float(r) for r in ratio],
        num_patients=num_patients,
        method="patients ordered by sha256(f'{seed}:{patient}') and cut by ratio; "
               'both views of a patient are in the same split',
        **split)


def default_split_file(seed: int = 0) -> str:
    return osp.join(SPLIT_DIR, f'camus_split_seed{seed}.json')


def load_split_file(path: str) -> Dict[str, List[str]]:
    """Read a split file ({'train': [...], 'val': [...], 'test': [...]}) and check it."""
    if not osp.isfile(path):
        raise EchoDataError(f'{path}: split file not found')
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError) as exc:
        raise EchoDataError(f'{path}: unreadable split file ({exc})') from None
    if not isinstance(data, dict) or not all(isinstance(data.get(s), list) for s in SPLITS):
        raise EchoDataError(f'{path}: a split file needs lists "train", "val" and "test"')
    seen: Dict[str, str] = {}
    for s in SPLITS:
        for p in data[s]:
            if p in seen and seen[p] != s:
                raise EchoDataError(f'{path}: patient {p} is in both {seen[p]!r} and {s!r} '
                                    '(patient leakage)')
            seen[p] = s
    return {s: list(data[s]) for s in SPLITS}


def camus_split(split_file: Optional[str] = None, seed: int = 0) -> Dict[str, List[str]]:
    """The split from ``split_file``, the shipped file for ``seed``, or generated."""
    if split_file is not None:
        return load_split_file(split_file)
    path = default_split_file(seed)
    if osp.isfile(path):
        return load_split_file(path)
    gen = make_camus_split(seed)
    return {s: gen[s] for s in SPLITS}


# --------------------------------------------------------------------------- files
def _convert(value: str):
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


def parse_info_cfg(path: str) -> Dict:
    """A CAMUS ``Info_*.cfg`` ("Key: value" per line) as a dict with numbers converted."""
    if not osp.isfile(path):
        raise EchoDataError(f'{path}: cfg file not found')
    out = {}
    try:
        with open(path, encoding='utf-8', errors='replace') as f:
            lines = f.read().splitlines()
    except OSError as exc:
        raise EchoDataError(f'{path}: unreadable cfg file ({exc})') from None
    for no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if ':' not in line:
            raise EchoDataError(f'{path}: line {no} is not "Key: value": {line.strip()!r}')
        key, value = line.split(':', 1)
        out[key.strip()] = _convert(value.strip())
    return out


def find_patient_dirs(root: str, max_depth: int = 2) -> Dict[str, str]:
    """{patient id: folder} for ``patientXXXX`` folders in ``root`` or up to 2 levels below."""
    if not osp.isdir(root):
        raise EchoDataError(f'{root}: CAMUS data_root not found')
    found: Dict[str, str] = {}

    def walk(folder: str, depth: int) -> None:
        for name in sorted(os.listdir(folder)):
            path = osp.join(folder, name)
            if not osp.isdir(path):
                continue
            if _PATIENT.match(name):
                if name in found:
                    raise EchoDataError(f'{path}: patient {name} also found in {found[name]}')
                found[name] = path
            elif depth < max_depth:
                walk(path, depth + 1)

    walk(root, 0)
    return found


def _find(folder: str, stem: str) -> Optional[str]:
    for ext in IMAGE_EXTS:
        path = osp.join(folder, stem + ext)
        if osp.isfile(path):
            return path
    return None


def _as_float(value) -> Optional[float]:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _as_views(views: Union[str, Sequence[str]]) -> Tuple[str, ...]:
    if isinstance(views, str):
        views = CAMUS_VIEWS if views.lower() in ('both', 'all') else (views,)
    out = tuple(str(v).upper() for v in views)
    bad = [v for v in out if v not in CAMUS_VIEWS]
    if bad or not out:
        raise ValueError(f'CAMUS views must be among {CAMUS_VIEWS}, got {views}')
    return out


def _classes(label_map: Optional[Dict[int, int]]) -> Tuple[str, ...]:
    if label_map is None:
        return tuple(CAMUS_LABELS.values())
    n = max([0] + [int(v) for v in label_map.values()]) + 1
    names = ['background'] + [f'class{i}' for i in range(1, n)]
    for raw, new in label_map.items():
        if int(new) > 0:
            names[int(new)] = CAMUS_LABELS.get(int(raw), f'label{raw}')
    return tuple(names)


@DATASETS.register_module()
class CAMUSDataset(BaseDataset):
    """CAMUS half sequences as ED-to-ES clips, split by patient.

    Args:
        data_root: folder holding the patient folders (directly, or one or two levels
            down such as ``database_nifti/`` or ``training/`` and ``testing/``).
        split: ``'train'``, ``'val'``, ``'test'`` or ``'all'``.
        views: ``'2CH'``, ``'4CH'``, ``'both'`` or a list.
        mode: ``'semi'`` (ED and ES labelled: CAMUS-Semi) or ``'full'`` (every labelled
            frame of the half sequence: CAMUS-Full; 2019 patients have ED and ES only).
            CAMUS-Full evaluates every frame with ``SampleClipFrames(all_frames=True)`` in
            the pipeline (``full_test_pipeline`` of ``configs/_base_/datasets/camus.py``).
        label_map: raw CAMUS label -> training label; default LV cavity only ``{1: 1}``.
        split_file: JSON with ``train``/``val``/``test`` patient lists; default the shipped
            ``data_splits/camus_split_seed{split_seed}.json`` (7:1:2), generated when absent.
        skip_invalid: skip (and report in ``self.skipped``) cases whose files are bad
            instead of raising :class:`EchoDataError` on the first.
    """

    METAINFO = dict(classes=('background', 'LV'), palette=[[0, 0, 0], [255, 0, 0]],
                    dataset_name='CAMUS')

    def __init__(self,
                 data_root: str = 'data/camus',
                 split: str = 'train',
                 views: Union[str, Sequence[str]] = CAMUS_VIEWS,
                 mode: str = 'semi',
                 label_map: Optional[Dict[int, int]] = {1: 1},  # noqa: B006 (read only)
                 split_file: Optional[str] = None,
                 split_seed: int = 0,
                 skip_invalid: bool = False,
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        if split not in SPLITS + ('all',):
            raise ValueError(f"split must be 'train', 'val', 'test' or 'all', got {split!r}")
        if mode not in ('semi', 'full'):
            raise ValueError(f"mode must be 'semi' or 'full', got {mode!r}")
        self.split = split
        self.views = _as_views(views)
        self.mode = mode
        self.label_map = None if label_map is None else {
            int(k): int(v) for k, v in dict(label_map).items()}
        self.split_file = split_file
        self.split_seed = split_seed
        self.skip_invalid = skip_invalid
        self.skipped: List[Tuple[str, str]] = []
        self._fallback_full: List[str] = []
        meta = dict(classes=_classes(self.label_map), split=split, mode=mode,
                    views=self.views)
        if self.label_map == {1: 1}:
            meta['classes'] = ('background', 'LV')
        meta.update(metainfo or {})
        super().__init__(data_root=data_root, metainfo=meta, **kwargs)

    # ------------------------------------------------------------------ loading
    def load_data_list(self) -> List[dict]:
        self.skipped = []
        patients = find_patient_dirs(self.data_root)
        if not patients:
            raise EchoDataError(f'{self.data_root}: no CAMUS patient folders (patientXXXX)')
        if self.split == 'all':
            wanted = set(patients)
        else:
            splits = camus_split(self.split_file, self.split_seed)
            listed = {p for s in SPLITS for p in splits[s]}
            unlisted = sorted(set(patients) - listed)
            if unlisted:
                source = self.split_file or default_split_file(self.split_seed)
                print_log(f'CAMUSDataset: {len(unlisted)} patient folder(s) are in no split '
                          f'of {source} and are left out: {unlisted[:10]}'
                          f'{" ..." if len(unlisted) > 10 else ""}', logger='current',
                          level=30)
            wanted = set(splits[self.split])
            if not wanted & set(patients):
                print_log(f'CAMUSDataset: none of the {len(patients)} patient folders in '
                          f'{self.data_root} is in split {self.split!r}: the dataset is empty',
                          logger='current', level=30)
        self._fallback_full = []
        data_list = []
        for pid in sorted(p for p in patients if p in wanted):
            for view in self.views:
                try:
                    data_list.append(self.parse_case(pid, view, patients[pid]))
                except EchoDataError as exc:
                    if not self.skip_invalid:
                        raise EchoDataError(f'{exc} (CAMUSDataset(skip_invalid=True) skips '
                                            'such cases)') from None
                    self.skipped.append((f'{pid}_{view}', str(exc)))
        ends = [d['video_id'] for d in data_list if d['frame_rule'] == 'half_sequence_ends']
        if ends:
            print_log(f'CAMUSDataset: {len(ends)} case(s) whose cfg NbFrame differs from the '
                      'half sequence: ED/ES taken as its first and last frames: '
                      f'{ends[:10]}', logger='current', level=30)
        if self._fallback_full:
            print_log(f'CAMUSDataset (full mode): {len(self._fallback_full)} case(s) have no '
                      'half_sequence_gt (2019 release): only ED and ES are labelled there: '
                      f'{self._fallback_full[:10]}', logger='current', level=30)
        if self.skipped:
            lines = '\n'.join(f'  {case}: {reason}' for case, reason in self.skipped)
            print_log(f'CAMUSDataset: skipped {len(self.skipped)} invalid case(s) '
                      f'(skip_invalid=True):\n{lines}', logger='current', level=30)
            if not data_list:
                raise EchoDataError(f'{self.data_root}: every one of the {len(self.skipped)} '
                                    f'cases of split {self.split!r} is invalid (skipped):'
                                    f'\n{lines}')
        print_log(f'CAMUSDataset: split {self.split!r}, mode {self.mode!r}, views '
                  f'{"/".join(self.views)}: {len(data_list)} sequences from '
                  f'{len({d["patient_id"] for d in data_list})} patients',
                  logger='current')
        return data_list

    def parse_case(self, pid: str, view: str, folder: str) -> dict:
        """The data info of one patient and view (paths, frames, spacing, cfg values)."""
        cfg_path = osp.join(folder, f'Info_{view}.cfg')
        cfg = parse_info_cfg(cfg_path)
        for key in REQUIRED_CFG_KEYS:
            if key not in cfg:
                raise EchoDataError(f'{cfg_path}: missing key {key!r}')
            if not isinstance(cfg[key], int):
                raise EchoDataError(f'{cfg_path}: {key} must be an integer, got {cfg[key]!r}')

        base = f'{pid}_{view}'
        seq = _find(folder, f'{base}_half_sequence')
        release = '2023'
        if seq is None:
            seq, release = _find(folder, f'{base}_sequence'), '2019'
        if seq is None:
            raise EchoDataError(f'{folder}: no {base}_half_sequence.nii.gz (2023 release) or '
                                f'{base}_sequence.mhd (2019 release)')
        info, spacing = read_volume_header(seq)
        n, size = info.num_frames, info.size

        ed, es, nb = cfg['ED'] - 1, cfg['ES'] - 1, cfg['NbFrame']
        if nb == n:
            for name, f in (('ED', ed), ('ES', es)):
                if not 0 <= f < n:
                    raise EchoDataError(f'{cfg_path}: {name} = {f + 1} is outside the '
                                        f'{n} frames of {seq}')
            frame_rule = 'cfg'
        elif release == '2023':
            ed, es = (0, n - 1) if cfg['ED'] <= cfg['ES'] else (n - 1, 0)
            frame_rule = 'half_sequence_ends'
        else:
            raise EchoDataError(f'{cfg_path}: NbFrame = {nb} but {seq} has {n} frames')
        if ed == es:
            raise EchoDataError(f'{cfg_path}: ED and ES are the same frame ({ed + 1}) of {seq}')

        def checked(path: str, frames: Optional[int]) -> str:
            m_info, _ = read_volume_header(path)
            if m_info.size != size or (frames is not None and m_info.num_frames != frames):
                got = (m_info.num_frames,) + m_info.size
                want = ((frames,) if frames is not None else (1,)) + size
                raise EchoDataError(f'{path}: mask size (frames, H, W) {got} disagrees with '
                                    f'its image {seq} {want}')
            return path

        ed_gt, es_gt = _find(folder, f'{base}_ED_gt'), _find(folder, f'{base}_ES_gt')
        seq_gt = (_find(folder, f'{base}_half_sequence_gt') if release == '2023'
                  else _find(folder, f'{base}_sequence_gt'))
        masks: dict
        if self.mode == 'full' and seq_gt is not None:
            masks = dict(mask_path=checked(seq_gt, n), labelled_frames=list(range(n)))
        elif ed_gt is not None and es_gt is not None:
            masks = dict(frame_mask_paths={ed: checked(ed_gt, 1), es: checked(es_gt, 1)})
        elif seq_gt is not None:
            masks = dict(mask_path=checked(seq_gt, n), labelled_frames=[ed, es])
        else:
            raise EchoDataError(f'{folder}: no masks for {base} (expected {base}_ED_gt and '
                                f'{base}_ES_gt, or {base}_half_sequence_gt)')
        if self.mode == 'full' and 'frame_mask_paths' in masks:
            self._fallback_full.append(base)

        return dict(
            video_id=base, patient_id=pid, view=view, release=release,
            video_path=seq, num_frames=n, ed_frame=int(ed), es_frame=int(es),
            frame_rule=frame_rule, spacing=tuple(spacing),
            label_map=None if self.label_map is None else dict(self.label_map),
            image_quality=cfg.get('ImageQuality'),
            edv=_as_float(cfg.get('LVedv')), esv=_as_float(cfg.get('LVesv')),
            ef=_as_float(cfg.get('LVef')),
            camus_info=cfg, **masks)
