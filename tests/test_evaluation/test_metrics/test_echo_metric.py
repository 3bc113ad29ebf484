import json
import os.path as osp

import numpy as np
import pytest
import torch

from echoseg.evaluation import EchoMetric, load_results
from echoseg.registry import METRICS
from echoseg.structures import IGNORE_INDEX, EchoDataSample


def ellipse(a_mm, b_mm, spacing, shape=(280, 160)):
    """Apical LV-like ellipse, long axis vertical, centred, physical semi-axes a, b."""
    r, c = np.mgrid[0:shape[0], 0:shape[1]]
    y = (r - shape[0] / 2) * spacing[0]
    x = (c - shape[1] / 2) * spacing[1]
    return ((x / b_mm)**2 + (y / a_mm)**2 <= 1).astype(np.int64)


def square(shape, top, left, side):
    m = np.zeros(shape, np.int64)
    m[top:top + side, left:left + side] = 1
    return m


def sample(video_id, pred, gt, labelled=None, **meta):
    """The dict form mmengine hands to a metric (EchoDataSample.to_dict())."""
    pred, gt = np.asarray(pred), np.asarray(gt)
    t = pred.shape[0]
    lab = np.ones(t, bool) if labelled is None else np.asarray(labelled, bool)
    gt = np.where(lab[:, None, None], gt, IGNORE_INDEX)
    d = dict(video_id=video_id, pred_masks=torch.as_tensor(pred),
             gt_masks=torch.as_tensor(gt), labelled=torch.as_tensor(lab), ed_index=0,
             es_index=t - 1, frame_indices=list(range(t)))
    d.update(meta)
    return d


def run(metric, samples):
    metric.process({}, samples)
    return metric.compute_metrics(metric.results)


def test_registered_and_bad_options():
    assert isinstance(METRICS.build(dict(type='EchoMetric')), EchoMetric)
    with pytest.raises(ValueError):
        EchoMetric(ef_reference='guess')
    with pytest.raises(ValueError):
        EchoMetric(empty_distance='zero')


def test_perfect_prediction():
    sp = (0.25, 0.25)
    rng = np.random.default_rng(0)
    samples = []
    for k in range(3):
        a, b = 30.0 + rng.uniform(-2, 2), 12.0 + rng.uniform(-1, 1)
        es_scale = 0.7 + 0.1 * k  # different EFs so the correlation is defined
        mid = (1 + es_scale) / 2  # monotone ED -> ES shrinking
        gt = np.stack([ellipse(a, b, sp), ellipse(a * mid**0.5, b * mid, sp),
                       ellipse(a * es_scale**0.5, b * es_scale, sp)])
        samples.append(sample(f'v{k}', gt, gt, spacing=sp, view='4CH'))
    out = run(EchoMetric(), samples)
    assert out['mDice'] == 1.0 and out['mIoU'] == 1.0
    assert out['mHD95'] == 0.0 and out['mASD'] == 0.0
    assert out['EF_bias'] == pytest.approx(0.0, abs=1e-9)
    assert out['EF_MAE'] == pytest.approx(0.0, abs=1e-9)
    assert out['EF_corr'] == pytest.approx(1.0)
    assert out['EDV_MAE'] == pytest.approx(0.0, abs=1e-9)
    assert out['num_clips'] == 3 and out['num_frames'] == 9
    assert out['EF_single_plane_cases'] == 3 and out['EF_biplane_cases'] == 0
    assert out['EF_ref_from_dataset'] == 0.0 and out['volumes_in_ml'] == 1.0
    assert out['TC_curve_error'] == 0.0 and out['TC_flicker'] == 0.0
    assert all(isinstance(v, float) for v in out.values())


def test_shifted_square_known_scores():
    """Squares of side 40 shifted by 8 columns: Dice 32/40, IoU 32/48, Hausdorff 8 * col mm."""
    sp = (0.5, 0.3)
    shape = (80, 100)
    gt = np.stack([square(shape, 20, 20, 40)] * 2)
    pred = np.stack([square(shape, 20, 28, 40)] * 2)
    m = EchoMetric(hd_percentile=100, compute_ef=False)
    out = run(m, [sample('shift', pred, gt, spacing=sp)])
    assert out['mDice'] == pytest.approx(32 / 40)
    assert out['mIoU'] == pytest.approx(32 / 48)
    assert out['mHD95'] == pytest.approx(8 * 0.3)


def test_only_labelled_frames_count_and_dict_or_object():
    shape = (40, 40)
    gt = np.stack([square(shape, 5, 5, 20)] * 3)
    pred = gt.copy()
    pred[1] = 1 - pred[1]  # garbage on the unlabelled middle frame
    d = sample('mid', pred, gt, labelled=[True, False, True])
    out = run(EchoMetric(compute_ef=False), [d])
    assert out['mDice'] == 1.0 and out['num_frames'] == 2

    obj = EchoDataSample(metainfo=dict(video_id='mid', ed_index=0, es_index=2))
    obj.pred_masks = d['pred_masks']
    obj.gt_masks = d['gt_masks']
    obj.labelled = d['labelled']
    out_obj = run(EchoMetric(compute_ef=False), [obj])
    assert out_obj['mDice'] == 1.0 and out_obj['num_frames'] == 2


def test_original_resolution_and_resizing():
    sp_ori, shape_ori = (0.2, 0.2), (120, 120)
    ori = np.stack([square(shape_ori, 30, 30, 60)] * 2)
    pred = np.stack([square(shape_ori, 30, 36, 60)] * 2)  # shifted 6 columns
    small = np.stack([square((60, 60), 15, 15, 30)] * 2)
    d = sample('ori', pred, small, spacing=(0.4, 0.4))
    d['ori_gt_masks'] = torch.as_tensor(ori)
    d['ori_spacing'] = sp_ori
    out = run(EchoMetric(hd_percentile=100, compute_ef=False), [d])
    assert out['mDice'] == pytest.approx(54 / 60)
    assert out['mHD95'] == pytest.approx(6 * 0.2)  # measured at the original grid

    # no ori_gt_masks: predictions resized (nearest) to gt_masks, distances with spacing
    d = sample('resized', pred, small, spacing=(0.4, 0.4))
    out = run(EchoMetric(hd_percentile=100, compute_ef=False), [d])
    assert out['mDice'] == pytest.approx(27 / 30)
    assert out['mHD95'] == pytest.approx(3 * 0.4)


def test_shape_mismatch_names_clip():
    gt = np.zeros((2, 20, 20), np.int64)
    d = sample('bad_clip', np.zeros((3, 20, 20), np.int64), np.zeros((3, 20, 20)))
    d['gt_masks'] = torch.as_tensor(gt)
    with pytest.raises(ValueError, match=r'bad_clip.*\(3, 20, 20\).*\(2, 20, 20\)'):
        EchoMetric().process({}, [d])
    d = sample('bad_ori', np.zeros((2, 20, 20), np.int64), gt)
    d['ori_gt_masks'] = torch.zeros(2, 30, 30, dtype=torch.long)
    with pytest.raises(ValueError, match=r'bad_ori.*\(2, 30, 30\)'):
        EchoMetric().process({}, [d])


def test_seg_logits_without_pred_masks():
    shape = (30, 30)
    gt = np.stack([square(shape, 5, 5, 10)] * 2)
    probs = np.stack([1 - gt, gt], axis=1).astype(np.float32)
    d = sample('logits', gt, gt)
    del d['pred_masks']
    d['seg_logits'] = torch.as_tensor(probs)
    out = run(EchoMetric(compute_ef=False), [d])
    assert out['mDice'] == 1.0
    del d['seg_logits']
    with pytest.raises(ValueError, match='logits'):
        EchoMetric().process({}, [d])


def test_empty_prediction_is_counted_not_crashing():
    shape = (30, 30)
    gt = np.stack([square(shape, 5, 5, 10)] * 2)
    pred = gt.copy()
    pred[1] = 0
    out = run(EchoMetric(), [sample('empty', pred, gt)])
    assert out['mDice'] == pytest.approx(0.5)
    assert out['mHD95'] == 0.0  # the NaN frame is left out of the mean ...
    assert out['num_undefined_distance'] == 1  # ... and counted
    # an empty predicted ES has volume 0, so EF = 100; the reference ED == ES gives EF 0
    assert out['EF_num'] == 1 and out['EF_bias'] == pytest.approx(100.0)
    out = run(EchoMetric(empty_distance='diagonal'), [sample('empty', pred, gt)])
    assert out['mHD95'] == pytest.approx(np.hypot(30, 30) / 2)


def test_biplane_ef_of_ellipsoids(tmp_path):
    """2CH and 4CH of one patient: ellipses sharing the long axis a with minor b / c.
    The biplane EF must match the ellipsoid volumes 4/3 pi a b c."""
    sp = (0.25, 0.25)
    ed, es = (30.0, 12.0, 9.0), (26.0, 9.5, 7.0)
    clips = []
    for view, minor in (('2CH', 1), ('4CH', 2)):
        gt = np.stack([ellipse(ed[0], ed[minor], sp), ellipse(es[0], es[minor], sp)])
        clips.append(sample(f'p1_{view}', gt, gt, spacing=sp, view=view, patient_id='p1',
                            ef=50.0))
    dump = str(tmp_path / 'res.json')
    out = run(EchoMetric(dump_path=dump), clips)
    assert out['EF_biplane_cases'] == 1 and out['EF_single_plane_cases'] == 0
    cases = load_results(dump)['ef_cases']
    assert len(cases) == 1 and cases[0]['mode'] == 'biplane'
    vol = lambda a, b, c: 4 / 3 * np.pi * a * b * c / 1000  # noqa: E731
    expected_ef = (1 - vol(*es) / vol(*ed)) * 100
    assert cases[0]['ef_pred'] == pytest.approx(expected_ef, abs=1.5)
    assert cases[0]['edv_pred'] == pytest.approx(vol(*ed), rel=0.02)
    assert cases[0]['ef_ref'] == pytest.approx(cases[0]['ef_pred'])

    # the dataset's EF as reference instead of the masks
    out = run(EchoMetric(ef_reference='dataset', dump_path=dump), clips)
    assert out['EF_ref_from_dataset'] == 1.0
    case = load_results(dump)['ef_cases'][0]
    assert case['ef_ref'] == 50.0
    assert out['EF_bias'] == pytest.approx(case['ef_pred'] - 50.0)

    # without biplane: one single-plane case per clip
    out = run(EchoMetric(biplane=False), clips)
    assert out['EF_single_plane_cases'] == 2 and out['EF_biplane_cases'] == 0


def test_temporal_consistency_and_dump(tmp_path):
    shape = (60, 60)
    sides_gt = [30, 27, 24, 21]
    sides_pred = [30, 27, 29, 21]  # frame 2 flickers back up
    gt = np.stack([square(shape, 5, 5, s) for s in sides_gt])
    pred = np.stack([square(shape, 5, 5, s) for s in sides_pred])
    out = run(EchoMetric(compute_ef=False, output_dir=str(tmp_path)), [sample('tc', pred, gt)])
    a = np.array(sides_pred, float)**2
    assert out['TC_area_change'] == pytest.approx(np.mean(np.abs(np.diff(a))) / a[0])
    total = np.abs(np.diff(a)).sum()
    assert out['TC_flicker'] == pytest.approx((total - abs(a[-1] - a[0])) / 3 / a[0])
    r = np.array(sides_gt, float)**2
    assert out['TC_curve_error'] == pytest.approx(np.mean(np.abs(a - r)) / r[0])
    assert out['TC_area_change_ref'] == pytest.approx(np.mean(np.abs(np.diff(r))) / r[0])

    path = osp.join(str(tmp_path), 'echo_metric_results.json')
    with open(path) as f:
        data = json.load(f)
    assert data['summary']['mDice'] == pytest.approx(out['mDice'])
    assert len(data['clips']) == 1 and len(data['clips'][0]['frames']) == 4
    rows = load_results(path[:-5] + '_clips.csv')['clips']
    assert rows[0]['video_id'] == 'tc' and rows[0]['dice'] == pytest.approx(out['mDice'])


def test_extra_labels():
    shape = (40, 40)
    gt = np.zeros((1, *shape), np.int64)
    gt[0, 5:25, 5:25] = 2
    gt[0, 10:20, 10:20] = 1
    pred = gt.copy()
    pred[0, 5:25, 20:25] = 0  # lose a strip of label 2 (100 of 300 pixels)
    out = run(EchoMetric(extra_labels=(2, ), compute_ef=False), [sample('ml', pred, gt)])
    assert out['mDice'] == 1.0
    assert out['Dice_label2'] == pytest.approx(2 * 200 / 500)


def test_through_mmengine_evaluator():
    """The Evaluator converts EchoDataSample objects with to_dict() before process()."""
    from mmengine.evaluator import Evaluator
    from mmengine.registry import DefaultScope

    shape = (40, 40)
    gt = torch.as_tensor(np.stack([square(shape, 5, 5, 20), square(shape, 7, 7, 16)]))
    samples = []
    for k in range(2):
        s = EchoDataSample(metainfo=dict(video_id=f'e{k}', patient_id=f'p{k}', view='A4C',
                                         ed_index=0, es_index=1, spacing=(0.5, 0.5),
                                         ori_shape=shape))
        s.gt_masks = gt
        s.labelled = torch.ones(2, dtype=torch.bool)
        s.pred_masks = gt.clone()
        samples.append(s)
    with DefaultScope.overwrite_default_scope('echoseg'):
        evaluator = Evaluator([dict(type='EchoMetric')])
    evaluator.process(samples, {})
    out = evaluator.evaluate(2)
    assert out['mDice'] == 1.0 and out['num_clips'] == 2
    assert out['EF_MAE'] == pytest.approx(0.0, abs=1e-9)


def test_postprocess_reported_with_and_without(tmp_path):
    """A second blob in the prediction: with post-processing the headline Dice is that of
    the LV alone; the ``_raw`` metrics keep the blob's cost."""
    shape = (80, 100)
    gt = np.stack([square(shape, 20, 20, 30), square(shape, 24, 24, 22)])
    pred = gt.copy()
    pred[:, 60:70, 70:80] = 1                        # 100-pixel blob, disjoint from the LV
    out = run(EchoMetric(postprocess=True, compute_ef=False), [sample('blob', pred, gt)])
    assert out['mDice'] == 1.0 and out['Dice_ED'] == 1.0
    # by hand: Dice = 2|G| / (|G| + |G| + 100)
    expect = np.mean([2 * 900 / (1800 + 100), 2 * 484 / (968 + 100)])
    assert out['mDice_raw'] == pytest.approx(expect)
    assert out['Dice_ED_raw'] == pytest.approx(2 * 900 / 1900)
    plain = run(EchoMetric(compute_ef=False), [sample('blob', pred, gt)])
    assert plain['mDice'] == pytest.approx(expect) and 'mDice_raw' not in plain
    # the dump's clip row carries the clip's scores of both masks
    run(EchoMetric(postprocess=True, compute_ef=False, dump_path=str(tmp_path / 'b.json')),
        [sample('blob', pred, gt)])
    clip = load_results(str(tmp_path / 'b.json'))['clips'][0]
    assert clip['dice_ed'] == 1.0 and clip['dice'] == 1.0
    assert clip['dice_ed_raw'] == pytest.approx(2 * 900 / 1900)
    assert clip['dice_es_raw'] == pytest.approx(2 * 484 / 1068)
    assert clip['dice_raw'] == pytest.approx(expect)
    # hole filling and temporal smoothing are configurable; a bad setting is an error
    holed = gt.copy()
    holed[0, 30:35, 30:35] = 0
    only_holes = EchoMetric(postprocess=dict(largest_component=False), compute_ef=False,
                            dump_path=str(tmp_path / 'm.json'))
    out = run(only_holes, [sample('hole', holed, gt)])
    assert out['Dice_ED'] == 1.0 and out['Dice_ED_raw'] < 1.0
    assert 'raw' not in load_results(str(tmp_path / 'm.json'))['clips'][0]
    with pytest.raises(ValueError, match='temporal_window'):
        EchoMetric(postprocess=dict(temporal_window=2))


def test_implausible_predicted_ef_is_flagged():
    sp = (0.25, 0.25)
    ed, es = ellipse(30, 12, sp), ellipse(24, 9, sp)
    grow = sample('grows', np.stack([es, ed]), np.stack([ed, es]), spacing=sp)
    good = sample('good', np.stack([ed, es]), np.stack([ed, es]), spacing=sp)
    metric = EchoMetric()
    metric.process({}, [grow, good])
    cases = {c['case_id']: c for c in metric._ef_cases(metric.results)}
    assert cases['grows']['ef_pred'] < 0
    assert cases['grows']['ef_pred_flags'] == 'ef_out_of_range'
    assert cases['good']['ef_pred_flags'] == ''
    assert metric.compute_metrics(metric.results)['EF_num_flagged'] == 1.0
