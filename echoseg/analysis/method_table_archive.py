"""The method table's archive: what a finished stage measured, kept as small JSON in the
repository (``docs/results/method_table`` by default), so that the table grows row by row
across machines whose work roots do not survive (docs/real_data.md, "Method table").

A work root holds checkpoints and logs (hundreds of MB); the archive holds only what the
table and later analyses read, keyed by the same stage hashes:

- ``cv/<row slug>-<cv key>.json``: every finished run's ``run.json`` record of the row's
  cross-validation, each held-out video with the Dice of its ED / ES masks under each LV
  component choice (computed from the run's ``predictions.npz`` before the work root goes)
  and its whole-video read-out (per-frame LV area and volume, detected ED / ES frames,
  beats, EF), so that ED / ES rules can be checked again without re-training;
- ``complexity/<model key>.json`` and ``speed.json``: as in the work root.

A row whose runs are all in the archive counts as measured; a run found in both places is
read from the work root. Archiving merges: runs of more seeds add to a record.
"""
import json
import os
import os.path as osp
from typing import Dict, Optional, Sequence

from .cross_validation import RUN_RECORD, read_json
from .paths import REPO_ROOT

#: where ``tools/analysis/method_table.py`` keeps its archive unless told otherwise
DEFAULT_ARCHIVE = osp.join(REPO_ROOT, 'docs', 'results', 'method_table')
#: the whole-video read-out kept per held-out video (VideoResult.to_dict keys)
VIDEO_KEYS = ('fps', 'num_frames', 'period_frames', 'ed_frames', 'es_frames', 'beats',
              'ef_mean', 'flags', 'units')
#: run-record keys that name places on the machine that ran it (dropped)
LOCAL_KEYS = ('work_dir', 'log_dir')


def cv_path(archive: str, cv_dir: str) -> str:
    """The archive file of the cross-validation stage in ``cv_dir``."""
    return osp.join(archive, 'cv', osp.basename(osp.normpath(cv_dir)) + '.json')


def find_cv_record(archive: str, cv_dir: str) -> Optional[str]:
    """The archive file of the stage in ``cv_dir`` (``<row>-<key>``): the one of that name,
    else the one of the same stage key under another row name (a row renamed in its
    protocol is the same measurement); None when there is none."""
    path = cv_path(archive, cv_dir)
    if osp.isfile(path):
        return path
    key = osp.basename(osp.normpath(cv_dir)).rsplit('-', 1)[-1]
    folder = osp.join(archive, 'cv')
    found = sorted(n for n in os.listdir(folder) if n.endswith(f'-{key}.json')) \
        if osp.isdir(folder) else []
    return osp.join(folder, found[0]) if found else None


def archived_runs(archive: Optional[str], cv_dir: str) -> Dict[str, Dict]:
    """{run name: record} archived for the stage in ``cv_dir`` ({} without an archive)."""
    path = find_cv_record(archive, cv_dir) if archive else None
    return dict((read_json(path) or {}).get('runs') or {}) if path else {}


def _video_readout(run_dir: str, video_id: str) -> Optional[Dict]:
    data = read_json(osp.join(run_dir, 'videos', f'{video_id}.json'))
    if data is None:
        return None
    out = {k: data.get(k) for k in VIDEO_KEYS}
    for key in ('areas', 'volumes'):
        out[key] = [None if a is None else round(float(a), 3) for a in data.get(key) or []]
    return out


def compact_run(run_dir: str, component_scores) -> Optional[Dict]:
    """The archived form of one finished run (None when it has no ``run.json``):
    its record, each video with ``components`` (``component_scores(run_dir, id)``) and
    ``readout`` (its whole-video read-out), less the paths of the machine that ran it."""
    record = read_json(osp.join(run_dir, RUN_RECORD))
    if record is None:
        return None
    record = {k: v for k, v in record.items() if k not in LOCAL_KEYS}
    videos = []
    for video in record.get('videos', []):
        video = dict(video)
        video['components'] = component_scores(run_dir, video['video_id'])
        video['readout'] = _video_readout(run_dir, video['video_id'])
        videos.append(video)
    record['videos'] = videos
    return record


def _write(path: str, data: Dict) -> bool:
    """Write ``data`` as JSON when it differs from what ``path`` holds; whether it wrote."""
    if read_json(path) == json.loads(json.dumps(data)):
        return False
    os.makedirs(osp.dirname(path), exist_ok=True)
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write('\n')
    os.replace(tmp, path)
    return True


def _start(record: Dict) -> Optional[str]:
    """The SHA-256 of the checkpoint a run started from (None when not recorded)."""
    return (record.get('init') or {}).get('checkpoint_sha256')


class ArchiveConflict(ValueError):
    """Runs of one stage that started from different pretraining checkpoints."""


def archive_cv(archive: str, entry: Dict, names: Sequence[str], component_scores,
               clean=lambda d: d) -> Optional[str]:
    """Add the finished runs of ``entry``'s cross-validation (``names``) to the archive;
    the file written, or None when nothing new was there. ``clean`` makes the record JSON
    safe (NaN to None). Raises :class:`ArchiveConflict` (and writes nothing) when the runs
    started from different checkpoints (by the SHA-256 each run records): a stage
    re-pretrained on another machine whose pretraining did not reproduce bit for bit must
    not be averaged with the first."""
    cv_dir = entry['cv_dir']
    runs = archived_runs(archive, cv_dir)
    found = False
    for name in names:
        record = compact_run(osp.join(cv_dir, name), component_scores)
        if record is not None:
            runs[name] = clean(record)
            found = True
    starts = {_start(r) for r in runs.values()} - {None}
    if len(starts) > 1:
        raise ArchiveConflict(
            f'{cv_dir}: its runs started from {len(starts)} different pretraining '
            f'checkpoints ({", ".join(sorted(s[:12] for s in starts))}), the archived ones '
            f'in {find_cv_record(archive, cv_dir)}: not archived; re-run the stage from '
            'one pretraining')
    if not found:
        return None
    path = find_cv_record(archive, cv_dir) or cv_path(archive, cv_dir)
    data = dict(row=entry['name'], finetune=entry.get('finetune'),
                pretrain=entry.get('pretrain'), alternative=entry.get('alternative'),
                cv_key=entry['cv_key'], pretrain_key=entry.get('pretrain_key'),
                model_key=entry.get('model_key'), runs=runs)
    return path if _write(path, data) else None


def archive_file(archive: str, relative: str, data: Optional[Dict]) -> Optional[str]:
    """Keep a work-root JSON (complexity, speed) in the archive; the path when written."""
    if data is None:
        return None
    path = osp.join(archive, relative)
    return path if _write(path, data) else None


def read_archived(archive: Optional[str], relative: str) -> Optional[Dict]:
    """An archived JSON by its path relative to the archive (None when absent)."""
    return read_json(osp.join(archive, relative)) if archive else None
