"""Demosaicking artifacts against a ground truth: zipper effect and false colour.

Both work in CIELAB (sRGB [0, 1] display-referred -> D65, see isp_viewer.core.colour) with the
CIE76 distance dE*ab = |Lab1 - Lab2|.

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

import numpy as np

from isp_viewer.core.colour import (
    EDGE_THRESHOLD,
    ZIPPER_THRESHOLD,
    chroma_distance,
    lab_pair,
    lightness_edges,
    zipper_phi,
)
from isp_viewer.core.region import Region
from isp_viewer.metrics.convention import ArrayLike

ZIPPER_CONVENTION = (f"zipper (Lu & Tan 2003): % of pixels whose most similar 8-neighbour in the reference "
                     f"moves apart by > {ZIPPER_THRESHOLD} dE*ab, CIELAB D65, 1 px frame excluded")
FALSE_COLOUR_CONVENTION = "false colour: mean a*b* distance to the reference (CIELAB D65)"
FALSE_COLOUR_EDGES_CONVENTION = (f"false colour on edges: mean a*b* distance within 1 px of reference "
                                 f"edges (|grad L*| > {EDGE_THRESHOLD:g}/px), CIELAB D65")


@dataclass(frozen=True, eq=False)
class ZipperResult:
    """phi: HxW float32 (0 on the frame); mask: HxW bool, True where zipper; percent of inner pixels."""

    phi: np.ndarray
    mask: np.ndarray
    percent: float
    convention: str = ZIPPER_CONVENTION


def zipper(test: ArrayLike, reference: ArrayLike, region: Region | None = None,
           threshold: float = ZIPPER_THRESHOLD, lab: tuple[np.ndarray, np.ndarray] | None = None) -> ZipperResult:
    """Lu & Tan's zipper map and percentage (module doc) of `test` against `reference`. lab: the
    pair's `lab_pair(test, reference, region)` when the caller already has it."""
    phi = zipper_phi(*(lab if lab is not None else lab_pair(test, reference, region)))
    mask = phi > threshold
    inner = mask[1:-1, 1:-1]
    return ZipperResult(phi, mask, float(100.0 * inner.mean()) if inner.size else 0.0)


def edge_mask(reference: ArrayLike, region: Region | None = None, threshold: float = EDGE_THRESHOLD) -> np.ndarray:
    """HxW bool: within 1 px of where the reference's |grad L*| (central differences) > threshold."""
    return lightness_edges(lab_pair(reference, reference, region)[1], threshold)


def false_colour(test: ArrayLike, reference: ArrayLike, region: Region | None = None,
                 edges_only: bool = False, lab: tuple[np.ndarray, np.ndarray] | None = None) -> float:
    """Mean a*b* distance over all pixels, or over the reference's edges; NaN if it has none
    (lab as for zipper)."""
    lab_t, lab_r = lab if lab is not None else lab_pair(test, reference, region)
    chroma = chroma_distance(lab_t, lab_r)
    if not edges_only:
        return float(chroma.mean(dtype=np.float64))
    mask = lightness_edges(lab_r)
    return float(chroma[mask].mean(dtype=np.float64)) if mask.any() else float("nan")
