"""Pure numpy/scipy clinical evaluation functions (no torch, no registry).

See ``docs/evaluation.md`` for every definition, its units and its empty-mask behaviour.
"""
from .agreement import agreement_stats, paired_finite, pearson_r, wilcoxon_signed_rank
from .overlap import dice_score, iou_score, per_label_overlap
from .simpson import (NUM_DISKS, DiskGeometry, biplane_volume, ejection_fraction,
                      lv_disk_geometry, simpson_volume, volume_from_disks)
from .surface_distance import (average_surface_distance, hausdorff_distance, hd95,
                               mask_surface, surface_distances, surface_metrics)
from .temporal import area_change, area_flicker, curve_error, mask_areas

__all__ = [
    'dice_score', 'iou_score', 'per_label_overlap', 'mask_surface', 'surface_distances',
    'surface_metrics', 'hausdorff_distance', 'hd95', 'average_surface_distance',
    'NUM_DISKS', 'DiskGeometry', 'lv_disk_geometry', 'volume_from_disks', 'simpson_volume',
    'biplane_volume', 'ejection_fraction', 'paired_finite', 'pearson_r', 'agreement_stats',
    'wilcoxon_signed_rank', 'mask_areas', 'area_change', 'area_flicker', 'curve_error'
]
