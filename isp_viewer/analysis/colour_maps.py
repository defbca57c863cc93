"""Colour and demosaicking maps with a display range: CIEDE2000, zipper phi, false colour.

Each is an `ErrorMap` (HxW float32 on the reference grid or `region` of it) whose label states
the definition (isp_viewer.core.colour holds the maths; isp_viewer.metrics.colour_difference and
.artifacts give the numbers). Ranges: dE2000 and false colour up to the 99th percentile (at least
1, so a near-perfect result does not paint one-unit noise as full scale); zipper phi (negative
values, pixels that moved closer, shown as 0) fixed at [0, 2 x threshold], so the middle of the
colour bar is the just-noticeable difference that counts as zipper.
"""

from __future__ import annotations

import numpy as np

from isp_viewer.analysis._inputs import ArrayLike, sample
from isp_viewer.analysis.error_maps import DEFAULT_PERCENTILE, ErrorMap
from isp_viewer.core.colour import (
    ZIPPER_THRESHOLD,
    chroma_distance,
    de2000_lab_map,
    lab_pair,
    lightness_edges,
    zipper_phi,
)
from isp_viewer.core.region import Region

COLOUR_KINDS = ("de2000", "zipper", "false-colour", "false-colour-edges")


def _upper(data: np.ndarray, percentile: float) -> float:
    values = sample(data)
    return max(1.0, float(np.percentile(values, percentile)) if values.size else 0.0)


def colour_map(test: ArrayLike, reference: ArrayLike, kind: str = "de2000", region: Region | None = None,
               percentile: float = DEFAULT_PERCENTILE) -> ErrorMap:
    """The `kind` map (one of COLOUR_KINDS) of `test` against `reference`."""
    if kind not in COLOUR_KINDS:
        raise ValueError(f"Unknown colour map kind {kind!r}; choose from {COLOUR_KINDS}")
    lab_t, lab_r = lab_pair(test, reference, region)
    if kind == "de2000":
        data = de2000_lab_map(lab_t, lab_r)
        return ErrorMap(data, kind, (0.0, _upper(data, percentile)), False,
                        "CIEDE2000 dE00 (sRGB -> CIELAB D65)")
    if kind == "zipper":
        return ErrorMap(np.maximum(zipper_phi(lab_t, lab_r), 0), kind, (0.0, 2 * ZIPPER_THRESHOLD), False,
                        f"zipper phi (Lu & Tan 2003), dE*ab; zipper above {ZIPPER_THRESHOLD}")
    data = chroma_distance(lab_t, lab_r)
    label = "false colour: a*b* distance to reference (CIELAB D65)"
    if kind == "false-colour-edges":
        data = np.where(lightness_edges(lab_r), data, np.float32(0))
        label += ", reference edges only"
    return ErrorMap(data, kind, (0.0, _upper(data, percentile)), False, label)
