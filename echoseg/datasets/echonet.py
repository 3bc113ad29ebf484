"""EchoNet-Dynamic (apical 4-chamber AVIs with ED and ES LV tracings), in its own layout.

``data_root/Videos/*.avi``, ``FileList.csv`` (FileName, EF, ESV, EDV, FrameHeight,
FrameWidth, FPS, NumberOfFrames, Split) and ``VolumeTracings.csv`` (FileName, X1, Y1, X2,
Y2, Frame). Each traced frame has 21 rows in file order: the first is the long axis, the
other 20 are disk chords; the LV polygon runs through (X1, Y1) of rows 2..21 and back
through (X2, Y2) of rows 21..2. Of the two traced frames, ED is the one with the larger
polygon area and ES the smaller, whatever their order in the file or the video.
"""
import csv
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from echoseg.io import VIDEO_SUFFIXES, video_info
from echoseg.registry import DATASETS
from .camus import ratio_split
from .errors import EchoDataError

TRACING_ROWS = 21
TRACING_COLUMNS = ('FileName', 'X1', 'Y1', 'X2', 'Y2', 'Frame')


def video_stem(name: str) -> str:
    """FileName with or without ``.avi`` -> the name without it."""
    name = name.strip()
    low = name.lower()
    for suffix in VIDEO_SUFFIXES:
        if low.endswith(suffix):
            return name[:-len(suffix)]
    return name


def tracing_polygon(rows: np.ndarray) -> np.ndarray:
    """(21, 4) rows of X1, Y1, X2, Y2 -> the (40, 2) LV polygon of (x, y) vertices."""
    left = rows[1:, 0:2]
    right = rows[1:, 2:4][::-1]
    return np.concatenate([left, right], axis=0).astype(np.float64)


def polygon_area(poly: np.ndarray) -> float:
    """Shoelace area of a closed polygon of (x, y) vertices."""
    x, y = poly[:, 0], poly[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.0)


def _read_csv(path: str, required: Sequence[str]) -> Tuple[List[Dict[str, str]], List[str]]:
    if not osp.isfile(path):
        raise EchoDataError(f'{path}: file not found')
    try:
        with open(path, newline='', encoding='utf-8-sig') as f:
            reader = csv.DictReader(f)
            fields = [c.strip() for c in (reader.fieldnames or [])]
            rows = [{(k or '').strip(): (v or '').strip() for k, v in row.items()}
                    for row in reader]
    except (OSError, csv.Error, UnicodeDecodeError) as exc:
        raise EchoDataError(f'{path}: unreadable CSV file ({exc})') from None
    missing = [c for c in required if c not in fields]
    if missing:
        raise EchoDataError(f'{path}: missing column(s) {missing} (has {fields})')
    return rows, fields


def _as_float(value: Optional[str]) -> Optional[float]:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if np.isfinite(out) else None


def read_tracings(path: str) -> Dict[str, 'OrderedDict[int, Tuple[List[int], list]]']:
    """{video stem: {frame: (csv line numbers, [[X1, Y1, X2, Y2], ...])}} in file order.

    A row that does not parse is kept as an error string under the key ``'!error'`` of
    its video, so that only the videos in use fail.
    """
    rows, _ = _read_csv(path, TRACING_COLUMNS)
    out: Dict[str, OrderedDict] = {}
    for line, row in enumerate(rows, 2):
        stem = video_stem(row['FileName'])
        per_video = out.setdefault(stem, OrderedDict())
        try:
            frame = float(row['Frame'])
            if frame != int(frame):
                raise ValueError
            frame = int(frame)
            coords = [float(row[c]) for c in ('X1', 'Y1', 'X2', 'Y2')]
            if not all(np.isfinite(coords)):
                raise ValueError
        except ValueError:
            per_video.setdefault('!error', f'{path}: line {line} of {row["FileName"]} has a '
                                           f'non-numeric value: {row}')
            continue
        lines, pts = per_video.setdefault(frame, ([], []))
        lines.append(line)
        pts.append(coords)
    return out


@DATASETS.register_module()
class EchoNetDynamicDataset(BaseDataset):
    """EchoNet-Dynamic videos as ED-to-ES clips with their two traced frames.

    Args:
        data_root: folder with ``Videos/``, ``FileList.csv`` and ``VolumeTracings.csv``.
        split: ``'train'``, ``'val'``, ``'test'`` or ``'all'``.
        split_mode: ``'column'`` (the ``Split`` column of FileList.csv) or ``'ratio'``
            (a seeded ``ratio`` split of every video in FileList.csv, for folders whose
            column is missing or holds one split only).
        ratio, seed: the ratio split (7:1:2, seed 0 by default).
        check_videos: open every video's header at start-up to find unreadable or empty
            files and the true frame count (cheap: no frame is decoded).
        skip_invalid: skip (and report in ``self.skipped``) invalid videos instead of
            raising :class:`EchoDataError` on the first.
        label_map: passed to the data info (tracings are filled with label 1).
        video_ids: keep only these videos (FileName with or without ``.avi``), applied
            after the split; an id that FileList.csv lacks, or that the split left out, is
            an error. None keeps the whole split.
    """

    METAINFO = dict(classes=('background', 'LV'), palette=[[0, 0, 0], [255, 0, 0]],
                    dataset_name='EchoNet-Dynamic')

    def __init__(self,
                 data_root: str = 'data/echonet',
                 split: str = 'train',
                 split_mode: str = 'column',
                 ratio: Sequence[float] = (0.7, 0.1, 0.2),
                 seed: int = 0,
                 video_dir: str = 'Videos',
                 file_list: str = 'FileList.csv',
                 tracings_file: str = 'VolumeTracings.csv',
                 check_videos: bool = True,
                 skip_invalid: bool = False,
                 label_map: Optional[Dict[int, int]] = None,
                 video_ids: Optional[Sequence[str]] = None,
                 **kwargs) -> None:
        if split not in ('train', 'val', 'test', 'all'):
            raise ValueError(f"split must be 'train', 'val', 'test' or 'all', got {split!r}")
        if split_mode not in ('column', 'ratio'):
            raise ValueError(f"split_mode must be 'column' or 'ratio', got {split_mode!r}")
        self.split = split
        self.split_mode = split_mode
        self.ratio = tuple(ratio)
        self.seed = seed
        self.video_dir = video_dir
        self.file_list = file_list
        self.tracings_file = tracings_file
        self.check_videos = check_videos
        self.skip_invalid = skip_invalid
        self.label_map = None if label_map is None else {
            int(k): int(v) for k, v in dict(label_map).items()}
        if isinstance(video_ids, str):
            raise TypeError(f'video_ids must be a list of names, got the string {video_ids!r}')
        self.video_ids = None if video_ids is None else [video_stem(str(v)) for v in video_ids]
        if self.video_ids is not None and not self.video_ids:
            raise ValueError('video_ids is empty: give at least one video, or None for the '
                             'whole split')
        self.skipped: List[Tuple[str, str]] = []
        super().__init__(data_root=data_root, **kwargs)

    def _path(self, name: str) -> str:
        return name if osp.isabs(name) else osp.join(self.data_root, name)

    def load_data_list(self) -> List[dict]:
        self.skipped = []
        list_path = self._path(self.file_list)
        required = ('FileName', 'Split') if self.split_mode == 'column' else ('FileName',)
        rows, _ = _read_csv(list_path, required)
        stems: Dict[str, int] = {}
        for line, row in enumerate(rows, 2):
            stem = video_stem(row['FileName'])
            if not stem:
                raise EchoDataError(f'{list_path}: line {line} has an empty FileName')
            if stem in stems:
                raise EchoDataError(f'{list_path}: line {line}: {row["FileName"]} is listed '
                                    f'twice (also line {stems[stem]})')
            stems[stem] = line

        if self.split == 'all':
            selected = list(rows)
        elif self.split_mode == 'column':
            selected = [r for r in rows if r['Split'].upper() == self.split.upper()]
            if not selected:
                present = sorted({r['Split'] for r in rows})
                raise EchoDataError(
                    f'{list_path}: no row has Split == {self.split.upper()} (values present: '
                    f"{present}); use split_mode='ratio' to split this folder by ratio")
        else:
            chosen = set(ratio_split(list(stems), self.ratio, self.seed)[self.split])
            selected = [r for r in rows if video_stem(r['FileName']) in chosen]
        if self.video_ids is not None:
            selected = self._select_ids(list_path, rows, stems, selected)

        tracings = read_tracings(self._path(self.tracings_file))
        data_list = []
        for row in selected:
            stem = video_stem(row['FileName'])
            try:
                data_list.append(self.parse_case(row, stems[stem], tracings.get(stem)))
            except EchoDataError as exc:
                if not self.skip_invalid:
                    raise EchoDataError(f'{exc} (EchoNetDynamicDataset(skip_invalid=True) '
                                        'skips such videos)') from None
                self.skipped.append((stem, str(exc)))
        if self.skipped:
            lines = '\n'.join(f'  {case}: {reason}' for case, reason in self.skipped)
            print_log(f'EchoNetDynamicDataset: skipped {len(self.skipped)} invalid video(s) '
                      f'(skip_invalid=True):\n{lines}', logger='current', level=30)
            if not data_list:
                raise EchoDataError(f'{list_path}: every one of the {len(self.skipped)} '
                                    f'videos of split {self.split!r} is invalid (skipped):'
                                    f'\n{lines}')
        chosen = '' if self.video_ids is None else ', chosen by video_ids'
        print_log(f'EchoNetDynamicDataset: split {self.split!r} ({self.split_mode}'
                  f'{chosen}): {len(data_list)} videos', logger='current')
        return data_list

    def _select_ids(self, list_path: str, rows: List[Dict[str, str]], stems: Dict[str, int],
                    selected: List[Dict[str, str]]) -> List[Dict[str, str]]:
        """The rows of ``selected`` named by ``video_ids``, in FileList.csv order."""
        missing = [v for v in self.video_ids if v not in stems]
        if missing:
            raise EchoDataError(f'{list_path}: video_ids {missing} not listed in the file '
                                f'({len(stems)} videos)')
        in_split = {video_stem(r['FileName']) for r in selected}
        outside = [v for v in self.video_ids if v not in in_split]
        if outside:
            where = '' if self.split_mode != 'column' else ' (their Split: {})'.format(
                {v: rows[stems[v] - 2]['Split'] for v in outside})
            raise EchoDataError(
                f'{list_path}: video_ids {outside} are listed but not in split '
                f"{self.split!r} ({self.split_mode}){where}; use split='all' to choose "
                'videos by name alone')
        wanted = set(self.video_ids)
        return [r for r in selected if video_stem(r['FileName']) in wanted]

    def parse_case(self, row: Dict[str, str], line: int,
                   traced: Optional['OrderedDict[int, Tuple[List[int], list]]']) -> dict:
        """The data info of one FileList.csv row and its tracings."""
        list_path = self._path(self.file_list)
        trace_path = self._path(self.tracings_file)
        stem = video_stem(row['FileName'])
        fname = row['FileName'] if video_stem(row['FileName']) != row['FileName'] \
            else stem + '.avi'
        video_path = osp.join(self._path(self.video_dir), fname)
        if not osp.isfile(video_path):
            raise EchoDataError(f'{video_path}: video listed in {list_path} line {line} not '
                                'found')
        listed_n = row.get('NumberOfFrames')
        listed_n = int(float(listed_n)) if _as_float(listed_n) else None
        fps = _as_float(row.get('FPS'))
        if self.check_videos:
            info = video_info(video_path)  # raises on unreadable / zero-frame files
            num_frames, source = info.num_frames, video_path
            fps = fps or info.fps
        elif listed_n:
            num_frames, source = listed_n, f'NumberOfFrames in {list_path} line {line}'
        else:
            num_frames, source = None, None

        if not traced:
            raise EchoDataError(f'{trace_path}: no tracings for {fname}')
        if '!error' in traced:
            raise EchoDataError(traced['!error'])
        frames = list(traced.keys())
        for f in frames:
            lines, pts = traced[f]
            if len(pts) != TRACING_ROWS:
                raise EchoDataError(
                    f'{trace_path}: {fname} frame {f} has {len(pts)} rows (lines {lines[0]}-'
                    f'{lines[-1]}), expected {TRACING_ROWS}')
            if f < 0 or (num_frames is not None and f >= num_frames):
                raise EchoDataError(
                    f'{trace_path}: {fname} tracing frame {f} (lines {lines[0]}-{lines[-1]}) '
                    f'is beyond the video length ({num_frames} frames, from {source})')
        if len(frames) != 2:
            raise EchoDataError(f'{trace_path}: {fname} has {len(frames)} traced frame(s) '
                                f'{frames}, expected 2 (ED and ES)')
        polys = {f: tracing_polygon(np.asarray(traced[f][1])) for f in frames}
        areas = {f: polygon_area(p) for f, p in polys.items()}
        if areas[frames[0]] == areas[frames[1]]:
            raise EchoDataError(f'{trace_path}: {fname} frames {frames} have equal traced '
                                'areas; ED (larger) and ES (smaller) cannot be told apart')
        ed, es = sorted(frames, key=lambda f: -areas[f])
        return dict(
            video_id=stem, patient_id=stem, view='A4C',
            video_path=video_path, num_frames=num_frames, fps=fps,
            ed_frame=int(ed), es_frame=int(es),
            polygons={int(ed): polys[ed], int(es): polys[es]},
            tracing_areas={int(ed): areas[ed], int(es): areas[es]},
            label_map=None if self.label_map is None else dict(self.label_map),
            spacing=None,
            ef=_as_float(row.get('EF')), edv=_as_float(row.get('EDV')),
            esv=_as_float(row.get('ESV')),
            split=row.get('Split'))
