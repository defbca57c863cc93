"""The difference map of a registered pair (see isp_viewer.metrics.registration).

Takes the registration result (any value with `aligned`, HxWxC float32 on the reference grid,
and `mask`, HxW bool of valid pixels; metrics.registration.Registration is one) so this package
does not import its sibling. Invalid pixels are NaN, which the display range ignores and the UI
shows as empty.
"""

from __future__ import annotations

import numpy as np

from isp_viewer.analysis._inputs import ArrayLike
from isp_viewer.analysis.error_maps import DEFAULT_PERCENTILE, ErrorMap, error_map, range_for
from isp_viewer.core.region import Region

ALIGNED_KINDS = ("absolute", "signed", "squared", "relative")


def aligned_difference(registration, reference: ArrayLike, kind: str = "absolute",
                       region: Region | None = None, percentile: float = DEFAULT_PERCENTILE) -> ErrorMap:
    """The `kind` error map of the registered test against `reference`, NaN where not valid."""
    if kind not in ALIGNED_KINDS:
        raise ValueError(f"aligned difference maps are {ALIGNED_KINDS}, not {kind!r}")
    base = error_map(registration.aligned, reference, kind, region)
    mask = np.asarray(registration.mask, bool)
    if region is not None:
        mask = region.crop_inside(mask, "valid mask")
    data = np.where(mask, base.data, np.float32(np.nan)).astype(np.float32)
    return ErrorMap(data, kind, range_for(kind, [data], percentile), base.diverging,
                    base.label + ", after registration (invalid pixels empty)")
