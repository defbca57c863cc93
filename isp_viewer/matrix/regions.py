"""Worst regions: the top-k windows of an image by a per-pixel error, not overlapping each other."""

from __future__ import annotations

import numpy as np

from isp_viewer.core.region import Region
from isp_viewer.matrix.store import WorstRegion


def error_image(test: np.ndarray, reference: np.ndarray, error: str) -> np.ndarray:
    """HxW per-pixel error of two aligned HxWxC [0, 1] arrays: larger is worse."""
    from isp_viewer.analysis.error_maps import error_map

    if error == "ssim":
        return 1.0 - np.asarray(error_map(test, reference, "ssim").data, np.float64)
    return np.asarray(error_map(test, reference, "absolute").data, np.float64)


def worst_windows(err: np.ndarray, window: int, k: int, offset: tuple[int, int] = (0, 0),
                  error: str = "absolute") -> tuple[WorstRegion, ...]:
    """The k windows (side `window`, or the image side when smaller) with the largest mean of
    `err`, searched on a half-window stride and picked greedily so no two overlap; `offset`
    (x, y) places them on the reference grid. Ties go to the top-left window."""
    h, w = err.shape
    wy, wx = min(window, h), min(window, w)
    stride_y, stride_x = max(1, wy // 2), max(1, wx // 2)
    ys = _starts(h, wy, stride_y)
    xs = _starts(w, wx, stride_x)
    integral = np.zeros((h + 1, w + 1))
    integral[1:, 1:] = np.cumsum(np.cumsum(err, axis=0), axis=1)
    y0, x0 = np.meshgrid(ys, xs, indexing="ij")
    sums = integral[y0 + wy, x0 + wx] - integral[y0, x0 + wx] - integral[y0 + wy, x0] + integral[y0, x0]
    means = (sums / (wy * wx)).ravel()
    order = np.argsort(-means, kind="stable")
    picked: list[Region] = []
    out = []
    for idx in order:
        r = Region(int(x0.ravel()[idx]), int(y0.ravel()[idx]), wx, wy)
        if any(not r.intersect(p).empty for p in picked):
            continue
        picked.append(r)
        out.append(WorstRegion(Region(r.x + offset[0], r.y + offset[1], wx, wy), float(means[idx]), len(out), error))
        if len(out) == k:
            break
    return tuple(out)


def _starts(size: int, win: int, stride: int) -> np.ndarray:
    starts = list(range(0, size - win + 1, stride))
    if starts[-1] != size - win:   # the last window touches the edge, so the border is searched too
        starts.append(size - win)
    return np.array(starts)
