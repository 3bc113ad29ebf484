"""``EchoMetric``: segmentation and clinical metrics of echo clips (see docs/evaluation.md)."""
import os.path as osp
from collections import OrderedDict, defaultdict
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmengine.structures import BaseDataElement

from echoseg.registry import METRICS

from ..functional import (agreement_stats, area_change, area_flicker, curve_error,
                          dice_score, ejection_fraction, iou_score, lv_disk_geometry,
                          mask_areas, surface_metrics, volume_from_disks)
from ..functional.plausibility import ef_in_range
from ..functional.postprocess import LVPostProcessing
from ..results_io import dump_results

EF_REFERENCES = ('masks', 'dataset', 'auto')
#: metrics also reported on the masks before post-processing (suffix ``_raw``)
RAW_METRICS = ('mDice', 'Dice_ED', 'Dice_ES', 'mIoU', 'mHD95', 'HD95_ED', 'HD95_ES', 'mASD',
               'EF_MAE', 'EF_bias', 'EF_corr', 'EF_num_flagged', 'TC_flicker',
               'TC_curve_error')
#: per-clip scores also dumped of the masks as predicted (``_raw``) with ``postprocess``
CLIP_RAW_SCORES = ('dice', 'dice_ed', 'dice_es', 'hd95', 'hd95_ed', 'hd95_es')
#: views that count as the two orthogonal apical planes of a biplane volume
DEFAULT_VIEW_ALIASES = {'2CH': '2CH', 'A2C': '2CH', '4CH': '4CH', 'A4C': '4CH'}


def _to_numpy(value) -> Optional[np.ndarray]:
    if value is None:
        return None
    if hasattr(value, 'detach'):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def _as_spacing(value) -> Optional[Tuple[float, float]]:
    if value is None:
        return None
    arr = _to_numpy(value).astype(np.float64).ravel()
    if arr.size < 2 or not np.all(np.isfinite(arr[:2])) or np.any(arr[:2] <= 0):
        return None
    return float(arr[0]), float(arr[1])


def _as_float(value) -> float:
    if value is None:
        return float('nan')
    try:
        return float(_to_numpy(value).ravel()[0])
    except (TypeError, ValueError, IndexError):
        return float('nan')


def _resize_nearest(masks: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """(T, H0, W0) -> (T, H, W) nearest neighbour with pixel centres aligned:
    source index = floor((i + 0.5) * H0 / H)."""
    h0, w0 = masks.shape[-2:]
    h, w = size
    rows = np.minimum(((np.arange(h) + 0.5) * h0 / h).astype(np.int64), h0 - 1)
    cols = np.minimum(((np.arange(w) + 0.5) * w0 / w).astype(np.int64), w0 - 1)
    return masks[:, rows][:, :, cols]


def _nanmean(values) -> float:
    arr = np.asarray(list(values), dtype=np.float64)
    arr = arr[np.isfinite(arr)]
    return float(arr.mean()) if arr.size else float('nan')


@METRICS.register_module()
class EchoMetric(BaseMetric):
    """Dice, IoU, HD95 and ASD of labelled frames, EF by Simpson's method of disks with
    agreement statistics, and temporal consistency of the predicted LV area curve.

    Args:
        fg_label: the LV label (headline metrics, volumes, EF, area curves).
        extra_labels: further labels (e.g. 2 = myocardium) reported as ``Dice_label{k}``,
            ``IoU_label{k}``, ``HD95_label{k}``, ``ASD_label{k}``.
        ignore_index: reference value of pixels that are not evaluated.
        hd_percentile: q of the HDq distance (95).
        empty_distance: HD/ASD when exactly one of prediction and reference is empty:
            ``'nan'`` (left out of the means, counted in ``num_undefined_distance``) or
            ``'diagonal'`` (the image diagonal).
        compute_ef: compute volumes, EF and their agreement.
        biplane: combine a patient's 2CH and 4CH clips into one biplane EF case.
        ef_reference: reference EF / volumes: ``'masks'`` (Simpson on the reference ED and
            ES masks, the default), ``'dataset'`` (the dataset's ``ef``/``edv``/``esv``),
            or ``'auto'`` (masks when both are labelled, else the dataset's values).
        num_disks, apex_side: Simpson settings (see ``lv_disk_geometry``).
        view_aliases: view name -> '2CH'/'4CH' (default: 2CH, A2C, 4CH, A4C).
        use_oracle: use a sample's ``oracle_masks`` (hidden all-frame ground truth of
            synthetic data) as the reference area curve when not every frame is labelled.
        postprocess: LV post-processing of the predicted masks before scoring
            (:class:`~echoseg.evaluation.functional.postprocess.LVPostProcessing`: True for
            largest component + hole filling, or a dict of its fields; temporal smoothing
            runs over the clip's frames). None (default): the masks as predicted. When set,
            the headline metrics are of the post-processed masks and the ones in
            ``RAW_METRICS`` are also reported of the masks as predicted, suffixed ``_raw``.
        output_dir: write ``echo_metric_results.json`` (+ ``_clips.csv``, ``_ef.csv``) there.
        dump_path: write the JSON dump (and its CSVs beside it) to this path.
    """
    default_prefix: Optional[str] = None

    def __init__(self, fg_label: int = 1, extra_labels: Sequence[int] = (),
                 ignore_index: int = 255, hd_percentile: float = 95.0,
                 empty_distance: str = 'nan', compute_ef: bool = True, biplane: bool = True,
                 ef_reference: str = 'masks', num_disks: int = 20, apex_side: str = 'top',
                 view_aliases: Optional[Dict[str, str]] = None, use_oracle: bool = True,
                 postprocess=None, output_dir: Optional[str] = None, dump_path: Optional[str] = None,
                 collect_device: str = 'cpu', prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix,
                         collect_dir=collect_dir)
        if ef_reference not in EF_REFERENCES:
            raise ValueError(f'ef_reference must be one of {EF_REFERENCES}, '
                             f'got {ef_reference!r}')
        if empty_distance not in ('nan', 'diagonal'):
            raise ValueError(f"empty_distance must be 'nan' or 'diagonal', "
                             f'got {empty_distance!r}')
        self.fg_label = int(fg_label)
        self.labels = [self.fg_label] + [int(k) for k in extra_labels
                                         if int(k) != self.fg_label]
        self.ignore_index = ignore_index
        self.hd_percentile = float(hd_percentile)
        self.empty_distance = empty_distance
        self.compute_ef = compute_ef
        self.biplane = biplane
        self.ef_reference = ef_reference
        self.num_disks = int(num_disks)
        self.apex_side = apex_side
        aliases = DEFAULT_VIEW_ALIASES if view_aliases is None else view_aliases
        self.view_aliases = {str(k).upper(): v for k, v in aliases.items()}
        self.use_oracle = use_oracle
        self.postprocess = LVPostProcessing.build(postprocess)
        self.output_dir = output_dir
        self.dump_path = dump_path
        self._count = 0

    # ------------------------------------------------------------------ reading samples
    @staticmethod
    def _as_dict(sample: Any) -> Dict:
        if isinstance(sample, BaseDataElement):
            return sample.to_dict()
        out = dict(sample)
        meta = out.pop('metainfo', None)
        if isinstance(meta, dict):
            for k, v in meta.items():
                out.setdefault(k, v)
        return out

    def _pred_masks(self, d: Dict, video_id: str) -> np.ndarray:
        pred = _to_numpy(d.get('pred_masks'))
        if pred is None:
            logits = _to_numpy(d.get('seg_logits'))
            if logits is None:
                raise ValueError(f'clip {video_id}: the sample has neither pred_masks nor '
                                 'seg_logits')
            if logits.ndim != 4:
                raise ValueError(f'clip {video_id}: seg_logits must be (T, K, H, W), got '
                                 f'shape {logits.shape}')
            # one channel: a foreground probability; several: per-class scores
            pred = ((logits[:, 0] > 0.5).astype(np.int64) * self.fg_label
                    if logits.shape[1] == 1 else logits.argmax(axis=1))
        if pred.ndim == 4 and pred.shape[1] == 1:
            pred = pred[:, 0]
        if pred.ndim != 3:
            raise ValueError(f'clip {video_id}: pred_masks must be (T, H, W), got shape '
                             f'{pred.shape}')
        return pred.astype(np.int64)

    def _evaluation_masks(self, d: Dict, pred: np.ndarray, video_id: str):
        """(pred, gt, spacing) at the evaluation resolution (see the class doc)."""
        ori_gt = _to_numpy(d.get('ori_gt_masks'))
        gt = _to_numpy(d.get('gt_masks'))
        if ori_gt is not None:
            if ori_gt.shape != pred.shape:
                raise ValueError(
                    f'clip {video_id}: pred_masks shape {tuple(pred.shape)} does not match '
                    f'ori_gt_masks shape {tuple(ori_gt.shape)}')
            spacing = _as_spacing(d.get('ori_spacing'))
            return pred, ori_gt.astype(np.int64), spacing
        if gt is None:
            ori_shape = tuple(d.get('ori_shape') or pred.shape[-2:])
            key = 'ori_spacing' if tuple(pred.shape[-2:]) == tuple(ori_shape) else 'spacing'
            return pred, None, _as_spacing(d.get(key, d.get('spacing')))
        if gt.ndim != 3 or gt.shape[0] != pred.shape[0]:
            raise ValueError(f'clip {video_id}: pred_masks shape {tuple(pred.shape)} does '
                             f'not match gt_masks shape {tuple(gt.shape)}')
        if gt.shape[1:] != pred.shape[1:]:
            pred = _resize_nearest(pred, gt.shape[1:])
        return pred, gt.astype(np.int64), _as_spacing(d.get('spacing'))

    # ------------------------------------------------------------------ per clip
    def _frame_scores(self, pred: np.ndarray, gt: np.ndarray, spacing) -> Dict[str, float]:
        valid = gt != self.ignore_index
        out = {}
        for label in self.labels:
            p = (pred == label) & valid
            g = (gt == label) & valid
            sd = surface_metrics(p, g, spacing, self.hd_percentile, self.empty_distance)
            suffix = '' if label == self.fg_label else f'_label{label}'
            out.update({f'dice{suffix}': dice_score(p, g), f'iou{suffix}': iou_score(p, g),
                        f'hd95{suffix}': sd['hd'], f'asd{suffix}': sd['asd']})
        return out

    def _geometry(self, mask: np.ndarray, spacing) -> Dict:
        geo = lv_disk_geometry(mask == self.fg_label, spacing, self.num_disks,
                               self.apex_side)
        return dict(length=float(geo.length), diameters=geo.diameters.tolist())

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Score every clip of the batch; store one small record per clip."""
        for sample in data_samples:
            self.results.append(self._process_clip(self._as_dict(sample)))

    def _process_clip(self, d: Dict) -> Dict:
        self._count += 1
        video_id = str(d.get('video_id', f'clip{self._count}'))
        pred = self._pred_masks(d, video_id)
        pred, gt, spacing = self._evaluation_masks(d, pred, video_id)
        if self.postprocess is None:
            return self._clip_record(d, video_id, pred, gt, spacing)
        record = self._clip_record(d, video_id, self.postprocess(pred, self.fg_label), gt,
                                   spacing)
        record['raw'] = self._clip_record(d, video_id, pred, gt, spacing)
        return record

    def _clip_record(self, d: Dict, video_id: str, pred: np.ndarray,
                     gt: Optional[np.ndarray], spacing) -> Dict:
        t = pred.shape[0]
        labelled = _to_numpy(d.get('labelled'))
        if labelled is None:
            labelled = (np.zeros(t, bool) if gt is None else
                        (gt != self.ignore_index).reshape(t, -1).any(axis=1))
        labelled = labelled.astype(bool).ravel()
        if labelled.shape[0] != t:
            raise ValueError(f'clip {video_id}: labelled has {labelled.shape[0]} frames, '
                             f'pred_masks shape is {tuple(pred.shape)}')
        if gt is None:
            labelled = np.zeros(t, bool)
        frame_indices = d.get('frame_indices')
        frame_indices = (list(range(t)) if frame_indices is None else
                         [int(x) for x in _to_numpy(frame_indices).ravel()])
        ed = d.get('ed_index')
        es = d.get('es_index')
        ed = None if ed is None else int(ed) % t
        es = None if es is None else int(es) % t

        frames = []
        for i in np.flatnonzero(labelled):
            rec = dict(index=int(i),
                       frame_index=frame_indices[i] if i < len(frame_indices) else int(i),
                       phase='ED' if i == ed else 'ES' if i == es else '')
            rec.update(self._frame_scores(pred[i], gt[i], spacing))
            frames.append(rec)

        record = OrderedDict(
            video_id=video_id, patient_id=str(d.get('patient_id') or video_id),
            view=None if d.get('view') is None else str(d.get('view')),
            num_frames=t, num_labelled=len(frames),
            spacing=spacing, distance_unit='mm' if spacing is not None else 'px',
            volume_unit='ml' if spacing is not None else 'px3')
        for key in ('dice', 'iou', 'hd95', 'asd'):
            for label in self.labels:
                k = key if label == self.fg_label else f'{key}_label{label}'
                record[k] = _nanmean(f[k] for f in frames)
        for phase, idx in (('ed', ed), ('es', es)):
            f = [r for r in frames if r['index'] == idx]
            record[f'dice_{phase}'] = f[0]['dice'] if f else float('nan')
            record[f'hd95_{phase}'] = f[0]['hd95'] if f else float('nan')
        record['frames'] = frames
        record['ed_index'], record['es_index'] = ed, es
        for key in ('ef', 'edv', 'esv'):
            record[f'{key}_dataset'] = _as_float(d.get(key))

        # Simpson geometry of the predicted and reference ED / ES masks
        geometry = {}
        if self.compute_ef and ed is not None and es is not None:
            geometry['pred_ed'] = self._geometry(pred[ed], spacing)
            geometry['pred_es'] = self._geometry(pred[es], spacing)
            if gt is not None and labelled[ed] and labelled[es]:
                geometry['ref_ed'] = self._geometry(gt[ed], spacing)
                geometry['ref_es'] = self._geometry(gt[es], spacing)
        record['geometry'] = geometry

        # temporal consistency of the predicted LV area curve
        ref_index = 0 if ed is None else ed
        areas = mask_areas(pred, spacing, self.fg_label)
        record['areas_pred'] = areas.tolist()
        record['tc_area_change'] = area_change(areas, ref_index)
        record['tc_flicker'] = area_flicker(areas, ref_index)
        ref_areas = pred_areas = None
        if gt is not None and labelled.all():
            ref_areas, pred_areas = mask_areas(gt, spacing, self.fg_label), areas
        elif self.use_oracle and d.get('oracle_masks') is not None:
            oracle = _to_numpy(d['oracle_masks']).astype(np.int64)
            if oracle.ndim == 3 and oracle.shape[0] == t:
                ref_areas = mask_areas(oracle, None, self.fg_label)
                pred_areas = mask_areas(_resize_nearest(pred, oracle.shape[1:]), None,
                                        self.fg_label)
        if ref_areas is not None:
            record['areas_ref'] = ref_areas.tolist()
            record['tc_area_change_ref'] = area_change(ref_areas, ref_index)
            record['tc_curve_error'] = curve_error(pred_areas, ref_areas, ref_index)
        else:
            record['tc_area_change_ref'] = float('nan')
            record['tc_curve_error'] = float('nan')
        return dict(record)

    # ------------------------------------------------------------------ whole set
    def _ef_cases(self, clips: List[Dict]) -> List[Dict]:
        groups = defaultdict(list)
        for clip in clips:
            if clip['geometry'].get('pred_ed') is not None:
                groups[clip['patient_id']].append(clip)
        cases = []
        for patient, members in groups.items():
            members = sorted(members, key=lambda c: c['video_id'])
            by_view = defaultdict(list)
            for c in members:
                by_view[self.view_aliases.get(str(c['view']).upper())].append(c)
            used = set()
            if self.biplane and by_view['2CH'] and by_view['4CH']:
                pair = [by_view['2CH'][0], by_view['4CH'][0]]
                if pair[0]['volume_unit'] == pair[1]['volume_unit']:
                    cases.append(self._ef_case(patient, pair))
                    used = {id(c) for c in pair}
            for c in members:
                if id(c) not in used:
                    cases.append(self._ef_case(patient, [c]))
        return cases

    def _volumes(self, clips: List[Dict], source: str) -> Tuple[float, float]:
        """(EDV, ESV) in the clips' volume unit from geometries ``{source}_ed/_es``."""
        geos = [c['geometry'] for c in clips]
        if any(f'{source}_ed' not in g for g in geos):
            return float('nan'), float('nan')
        scale = 1e-3 if clips[0]['volume_unit'] == 'ml' else 1.0
        out = []
        for phase in ('ed', 'es'):
            g = [x[f'{source}_{phase}'] for x in geos]
            if len(g) == 1:
                v = volume_from_disks(g[0]['diameters'], g[0]['length'])
            else:
                v = volume_from_disks(g[0]['diameters'], g[0]['length'], g[1]['diameters'],
                                      g[1]['length'])
            out.append(v * scale)
        return out[0], out[1]

    def _ef_case(self, patient: str, clips: List[Dict]) -> Dict:
        edv_p, esv_p = self._volumes(clips, 'pred')
        unit = clips[0]['volume_unit']
        source = self.ef_reference
        if source == 'auto':
            source = 'masks' if all('ref_ed' in c['geometry'] for c in clips) else 'dataset'
        if source == 'masks':
            edv_r, esv_r = self._volumes(clips, 'ref')
            ef_r = ejection_fraction(edv_r, esv_r)
        else:
            def first(key):
                vals = [c[f'{key}_dataset'] for c in clips if np.isfinite(c[f'{key}_dataset'])]
                return vals[0] if vals else float('nan')
            ef_r = first('ef')
            # dataset volumes are in ml: comparable only with ml predictions
            edv_r, esv_r = ((first('edv'), first('esv')) if unit == 'ml' else
                            (float('nan'), float('nan')))
        ef_p = ejection_fraction(edv_p, esv_p)
        return dict(case_id=patient if len(clips) > 1 else clips[0]['video_id'],
                    patient_id=patient, mode='biplane' if len(clips) > 1 else 'single',
                    video_ids=';'.join(c['video_id'] for c in clips),
                    views=';'.join(str(c['view']) for c in clips),
                    ef_pred=ef_p, ef_pred_flags=self._ef_flags(clips, ef_p, edv_p, esv_p),
                    ef_ref=ef_r,
                    edv_pred=edv_p, edv_ref=edv_r, esv_pred=esv_p, esv_ref=esv_r,
                    volume_unit=unit, ef_ref_source=source)

    @staticmethod
    def _ef_flags(clips: List[Dict], ef: float, edv: float, esv: float) -> str:
        """';'-joined plausibility flags of a predicted EF (``docs/inference.md``):
        ``ef_out_of_range`` (outside [0, 100] or undefined, e.g. EDV < ESV) and, for one
        clip, ``area_volume_disagree`` (its ED/ES areas and volumes order ED and ES
        differently). The EF stays in the agreement statistics: evaluation shows failures
        rather than hiding them."""
        flags = [] if ef_in_range(ef) and esv <= edv else ['ef_out_of_range']
        if len(clips) == 1:
            c = clips[0]
            ed, es = c.get('ed_index'), c.get('es_index')
            if ed is not None and es is not None:
                areas = c['areas_pred']
                if np.sign(areas[ed] - areas[es]) != np.sign(edv - esv):
                    flags.append('area_volume_disagree')
        return ';'.join(flags)

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Aggregate the clip records into flat float metrics (NaN where undefined); with
        ``postprocess``, :data:`RAW_METRICS` of the masks as predicted too (``_raw``)."""
        clips = [{k: v for k, v in c.items() if k != 'raw'} for c in results]
        metrics, cases = self._aggregate(clips)
        raw = [c.get('raw') for c in results]
        if raw and all(r is not None for r in raw):
            raw_metrics, _ = self._aggregate(raw)
            for key in RAW_METRICS:
                if key in raw_metrics:
                    metrics[f'{key}_raw'] = raw_metrics[key]
        else:
            raw = [None] * len(clips)
        self._dump(metrics, clips, cases, raw)
        return dict(metrics)

    def _aggregate(self, clips: List[Dict]) -> Tuple[Dict[str, float], List[Dict]]:
        frames = [f for c in clips for f in c['frames']]
        metrics = OrderedDict()
        for key, name in (('dice', 'mDice'), ('iou', 'mIoU'), ('hd95', 'mHD95'),
                          ('asd', 'mASD')):
            metrics[name] = _nanmean(f[key] for f in frames)
        for phase in ('ED', 'ES'):
            sel = [f for f in frames if f['phase'] == phase]
            metrics[f'Dice_{phase}'] = _nanmean(f['dice'] for f in sel)
            metrics[f'HD95_{phase}'] = _nanmean(f['hd95'] for f in sel)
        for label in self.labels[1:]:
            for key, name in (('dice', 'Dice'), ('iou', 'IoU'), ('hd95', 'HD95'),
                              ('asd', 'ASD')):
                metrics[f'{name}_label{label}'] = _nanmean(f[f'{key}_label{label}']
                                                           for f in frames)
        metrics['num_undefined_distance'] = float(sum(
            not np.isfinite(f['hd95']) for f in frames))
        metrics['num_clips'] = float(len(clips))
        metrics['num_frames'] = float(len(frames))

        cases = self._ef_cases(clips) if self.compute_ef else []
        if self.compute_ef:
            ef = agreement_stats([c['ef_pred'] for c in cases], [c['ef_ref'] for c in cases])
            for key, name in (('corr', 'corr'), ('bias', 'bias'), ('sd', 'sd'),
                              ('loa_low', 'LoA_low'), ('loa_high', 'LoA_high'),
                              ('mae', 'MAE'), ('n', 'num')):
                metrics[f'EF_{name}'] = ef[key]
            # volumes: agreement over the cases in ml (all cases when none is in ml)
            in_ml = [c for c in cases if c['volume_unit'] == 'ml']
            vol_cases = in_ml or cases
            for vol in ('EDV', 'ESV'):
                st = agreement_stats([c[f'{vol.lower()}_pred'] for c in vol_cases],
                                     [c[f'{vol.lower()}_ref'] for c in vol_cases])
                metrics[f'{vol}_corr'] = st['corr']
                metrics[f'{vol}_bias'] = st['bias']
                metrics[f'{vol}_MAE'] = st['mae']
            metrics['volumes_in_ml'] = float(bool(in_ml))
            metrics['EF_ref_from_dataset'] = float(
                any(c['ef_ref_source'] == 'dataset' for c in cases))
            metrics['EF_biplane_cases'] = float(sum(c['mode'] == 'biplane' for c in cases))
            metrics['EF_single_plane_cases'] = float(sum(c['mode'] == 'single'
                                                         for c in cases))
            metrics['EF_num_flagged'] = float(sum(bool(c['ef_pred_flags']) for c in cases))
        for key, name in (('tc_area_change', 'TC_area_change'), ('tc_flicker', 'TC_flicker'),
                          ('tc_area_change_ref', 'TC_area_change_ref'),
                          ('tc_curve_error', 'TC_curve_error')):
            metrics[name] = _nanmean(c[key] for c in clips)
        return metrics, cases

    def _dump(self, metrics: Dict, clips: List[Dict], cases: List[Dict],
              raw: Sequence[Optional[Dict]]) -> None:
        # one row per clip, with the clip's own single-plane volumes and EF; with
        # postprocess, the clip's scores and EF of the masks as predicted too (``_raw``)
        rows = []
        for clip, raw_clip in zip(clips, raw):
            row = {k: v for k, v in clip.items() if k not in ('geometry', 'spacing')}
            if self.compute_ef and clip['geometry'].get('pred_ed') is not None:
                single = self._ef_case(clip['patient_id'], [clip])
                row.update({k: single[k] for k in ('ef_pred', 'ef_ref', 'edv_pred',
                                                   'edv_ref', 'esv_pred', 'esv_ref')})
            if raw_clip is not None:
                for key in CLIP_RAW_SCORES:
                    row[f'{key}_raw'] = raw_clip[key]
                if self.compute_ef and raw_clip['geometry'].get('pred_ed') is not None:
                    row['ef_pred_raw'] = self._ef_case(clip['patient_id'],
                                                       [raw_clip])['ef_pred']
            row['geometry'] = clip['geometry']
            row['spacing'] = clip['spacing']
            rows.append(row)
        settings = dict(fg_label=self.fg_label, labels=self.labels,
                        hd_percentile=self.hd_percentile, empty_distance=self.empty_distance,
                        ef_reference=self.ef_reference, biplane=self.biplane,
                        num_disks=self.num_disks)
        paths = []
        if self.output_dir:
            paths.append(osp.join(self.output_dir, 'echo_metric_results.json'))
        if self.dump_path:
            paths.append(self.dump_path)
        for path in paths:
            dump_results(path, dict(metrics, settings=settings), rows, cases)
            print_log(f'EchoMetric: per-case results written to {path}', logger='current')
