"""Demosaicking artifacts against a ground truth: zipper effect and false colour, per pixel.

Both work in CIELAB (sRGB [0, 1] display-referred -> D65, see `colour_difference`) with the CIE76
distance dE*ab = |Lab1 - Lab2|.

Zipper effect (Lu & Tan 2003, "Color filter array demosaicking: new method and performance
measures", IEEE TIP 12(10)): for every pixel p, take the 8-neighbour p' whose colour in the
reference is closest to p's (smallest dE*ab); the change phi(p) = dE_test(p, p') - dE_ref(p, p')
measures how much the method pulled two alike pixels apart. p shows zipper when phi(p) exceeds
ZIPPER_THRESHOLD (2.3, one just-noticeable difference). The percentage counts the pixels with
zipper among those with all 8 neighbours (the 1-pixel frame is left out).

False colour: the chroma error sqrt((a*_t - a*_r)^2 + (b*_t - b*_r)^2) per pixel, i.e. dE*ab with
lightness left out; its mean is reported over all pixels, or over the reference's edges only
(pixels within 1 px of where |grad L*| of the reference exceeds EDGE_THRESHOLD L* per pixel),
where demosaicking errors are colour fringes.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from isp_viewer.core.region import Region
from isp_viewer.metrics.colour_difference import _lab_pair
from isp_viewer.metrics.convention import ArrayLike

ZIPPER_THRESHOLD = 2.3
EDGE_THRESHOLD = 8.0
ZIPPER_CONVENTION = (f"zipper (Lu & Tan 2003): % of pixels whose most similar 8-neighbour in the reference "
                     f"moves apart by > {ZIPPER_THRESHOLD} dE*ab, CIELAB D65, 1 px frame excluded")
FALSE_COLOUR_CONVENTION = "false colour: mean a*b* distance to the reference (CIELAB D65)"
FALSE_COLOUR_EDGES_CONVENTION = (f"false colour on edges: mean a*b* distance within 1 px of reference "
                                 f"edges (|grad L*| > {EDGE_THRESHOLD:g}/px), CIELAB D65")
_OFFSETS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)]


@dataclass(frozen=True, eq=False)
class ZipperResult:
    """phi: HxW float32 (0 on the frame); mask: HxW bool, True where zipper; percent of inner pixels."""

    phi: np.ndarray
    mask: np.ndarray
    percent: float
    convention: str = ZIPPER_CONVENTION


def _shifted(arr: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Inner (H-2)x(W-2) window of `arr` moved by (dy, dx)."""
    h, w = arr.shape[:2]
    return arr[1 + dy:h - 1 + dy, 1 + dx:w - 1 + dx]


def _dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = a - b
    return np.sqrt(np.einsum("...k,...k->...", d, d))


def zipper(test: ArrayLike, reference: ArrayLike, region: Region | None = None,
           threshold: float = ZIPPER_THRESHOLD) -> ZipperResult:
    """Lu & Tan's zipper map and percentage (module doc) of `test` against `reference`."""
    lab_t, lab_r = _lab_pair(test, reference, region)
    h, w = lab_r.shape[:2]
    phi = np.zeros((h, w), np.float32)
    mask = np.zeros((h, w), bool)
    if h < 3 or w < 3:
        return ZipperResult(phi, mask, 0.0)
    centre_r, centre_t = _shifted(lab_r, 0, 0), _shifted(lab_t, 0, 0)
    best = np.full((h - 2, w - 2), np.inf, np.float32)
    inner = np.zeros((h - 2, w - 2), np.float32)
    for dy, dx in _OFFSETS:
        d_ref = _dist(centre_r, _shifted(lab_r, dy, dx))
        closer = d_ref < best  # first of equals wins, in a fixed neighbour order
        best = np.where(closer, d_ref, best)
        inner = np.where(closer, _dist(centre_t, _shifted(lab_t, dy, dx)) - d_ref, inner)
    phi[1:-1, 1:-1] = inner
    mask[1:-1, 1:-1] = inner > threshold
    return ZipperResult(phi, mask, float(100.0 * mask[1:-1, 1:-1].mean()))


def chroma_error_map(test: ArrayLike, reference: ArrayLike, region: Region | None = None) -> np.ndarray:
    """HxW float32 a*b* distance of `test` to `reference` (false colour, module doc)."""
    lab_t, lab_r = _lab_pair(test, reference, region)
    return _dist(lab_t[..., 1:], lab_r[..., 1:]).astype(np.float32)


def edge_mask(reference: ArrayLike, region: Region | None = None, threshold: float = EDGE_THRESHOLD) -> np.ndarray:
    """HxW bool: within 1 px of where the reference's |grad L*| (central differences) > threshold."""
    lab = _lab_pair(reference, reference, region)[1]
    L = np.ascontiguousarray(lab[..., 0], dtype=np.float32)
    gx = cv2.Sobel(L, cv2.CV_32F, 1, 0, ksize=1, scale=0.5, borderType=cv2.BORDER_REPLICATE)
    gy = cv2.Sobel(L, cv2.CV_32F, 0, 1, ksize=1, scale=0.5, borderType=cv2.BORDER_REPLICATE)
    edges = (np.hypot(gx, gy) > threshold).astype(np.uint8)
    return cv2.dilate(edges, np.ones((3, 3), np.uint8)).astype(bool)


def false_colour(test: ArrayLike, reference: ArrayLike, region: Region | None = None,
                 edges_only: bool = False) -> float:
    """Mean a*b* distance over all pixels, or over the reference's edges; NaN if it has none."""
    chroma = chroma_error_map(test, reference, region)
    if not edges_only:
        return float(chroma.mean(dtype=np.float64))
    mask = edge_mask(reference, region)
    return float(chroma[mask].mean(dtype=np.float64)) if mask.any() else float("nan")
