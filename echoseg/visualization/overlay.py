"""Overlays of predicted and reference masks on echo frames (OpenCV, BGR images)."""
from typing import Optional, Sequence

import cv2
import numpy as np

GT_COLOUR = (0, 200, 0)        # green: reference only
PRED_COLOUR = (0, 0, 230)      # red: prediction only
BOTH_COLOUR = (0, 220, 230)    # yellow: overlap


def to_uint8_gray(frame: np.ndarray) -> np.ndarray:
    """Any-range frame -> uint8 (values already in [0, 255] are kept)."""
    f = np.asarray(frame, dtype=np.float32)
    if f.max() > 255 or f.min() < 0:
        f = (f - f.min()) / max(float(f.max() - f.min()), 1e-6) * 255
    return np.clip(f, 0, 255).astype(np.uint8)


def overlay_masks(frame: np.ndarray, pred: Optional[np.ndarray] = None,
                  gt: Optional[np.ndarray] = None, fg_label: int = 1,
                  alpha: float = 0.45) -> np.ndarray:
    """(H, W) frame -> (H, W, 3) BGR with gt green, prediction red, overlap yellow."""
    img = cv2.cvtColor(to_uint8_gray(frame), cv2.COLOR_GRAY2BGR).astype(np.float32)
    p = np.zeros(img.shape[:2], bool) if pred is None else np.asarray(pred) == fg_label
    g = np.zeros(img.shape[:2], bool) if gt is None else np.asarray(gt) == fg_label
    for region, colour in ((p & g, BOTH_COLOUR), (p & ~g, PRED_COLOUR), (g & ~p, GT_COLOUR)):
        img[region] = (1 - alpha) * img[region] + alpha * np.asarray(colour, np.float32)
    for mask, colour in ((g, GT_COLOUR), (p, PRED_COLOUR)):
        contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL,
                                       cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(img, contours, -1, colour, 1)
    return img.astype(np.uint8)


def clip_overlay_grid(frames: np.ndarray, preds: np.ndarray, gts: Optional[np.ndarray] = None,
                      labels: Optional[Sequence[str]] = None, scale: int = 2,
                      fg_label: int = 1) -> np.ndarray:
    """One row of overlays for the frames of a clip, each with its caption."""
    tiles = []
    for i, frame in enumerate(frames):
        gt = None if gts is None else gts[i]
        if gt is not None and np.all(gt == 255):
            gt = None
        tile = overlay_masks(frame, preds[i], gt, fg_label)
        tile = cv2.resize(tile, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
        if labels is not None:
            cv2.putText(tile, str(labels[i]), (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4,
                        (255, 255, 255), 1, cv2.LINE_AA)
        tiles.append(tile)
    sep = np.full((tiles[0].shape[0], 2, 3), 255, np.uint8)
    row = []
    for tile in tiles:
        row.extend([tile, sep])
    return np.concatenate(row[:-1], axis=1)
