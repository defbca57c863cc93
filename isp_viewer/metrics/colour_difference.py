"""Colour difference of a pair: CIEDE2000 per pixel with its mean and 95th percentile; dE ITP.

Convention: display-referred sRGB in [0, 1] -> CIELAB under D65 (see isp_viewer.core.colour,
which holds the conversion and the formula: Sharma, Wu & Dalal 2005, k_L = k_C = k_H = 1; their
34 test pairs are reproduced to 1e-4). dE ITP (ITU-R BT.2124) goes through colour-science,
imported only when asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from isp_viewer.core.colour import (  # noqa: F401
    D65_WHITE_XYZ,
    SRGB_TO_XYZ,
    de2000_lab_map,
    delta_e_2000,
    lab_pair,
    srgb_to_lab,
    srgb_to_linear,
)
from isp_viewer.core.region import Region
from isp_viewer.metrics.convention import ArrayLike

DE2000_CONVENTION = "CIEDE2000 (kL=kC=kH=1), sRGB [0,1] -> CIELAB, D65, per pixel"
DEITP_CONVENTION = "dE ITP (BT.2124), sRGB [0,1] display-referred, 100 cd/m2 white"


@dataclass(frozen=True)
class ColourDifference:
    """Summary of a dE map: mean and 95th percentile over all kept pixels."""

    mean: float
    p95: float
    convention: str = DE2000_CONVENTION


def de2000_map(test: ArrayLike, reference: ArrayLike, region: Region | None = None,
               lab: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """HxW float32 CIEDE2000 of `test` against `reference` (same grid). lab: the pair's
    `lab_pair(test, reference, region)` when the caller already has it."""
    return de2000_lab_map(*(lab if lab is not None else lab_pair(test, reference, region)))


def de2000(test: ArrayLike, reference: ArrayLike, region: Region | None = None,
           lab: tuple[np.ndarray, np.ndarray] | None = None) -> ColourDifference:
    """Mean and 95th-percentile CIEDE2000 over the pixels of the pair (lab as for de2000_map)."""
    d = de2000_map(test, reference, region, lab)
    return ColourDifference(float(d.mean(dtype=np.float64)), float(np.percentile(d, 95)))


def deitp_map(test: ArrayLike, reference: ArrayLike, region: Region | None = None) -> np.ndarray:
    """HxW dE ITP (BT.2124) through colour-science; display sRGB with its white at 100 cd/m2."""
    import colour  # slow to import: only when dE ITP is asked for

    from isp_viewer.core.image import as_unit_array

    x, y = as_unit_array(test, "test image"), as_unit_array(reference, "reference image")
    if x.shape[:2] != y.shape[:2]:
        lab_pair(x, y)  # raises the size message the other colour metrics give
    if region is not None:
        x, y = region.crop_inside(x, "test image"), region.crop_inside(y, "reference image")

    def ictcp(a: np.ndarray) -> np.ndarray:
        a = np.repeat(a, 3, axis=2) if a.shape[2] == 1 else a
        rgb2020 = colour.RGB_to_RGB(srgb_to_linear(np.clip(a.astype(np.float64), 0, 1)), "sRGB", "ITU-R BT.2020")
        return colour.RGB_to_ICtCp(rgb2020 * 100.0)  # colour takes cd/m2: white at 100 cd/m2

    return colour.difference.delta_E_ITP(ictcp(x), ictcp(y)).astype(np.float32)
