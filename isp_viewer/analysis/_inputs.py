"""The input convention of the analysis functions, checked in one place.

An `Image` (HxWxC float32 in [0, 1]) or an ndarray, HxW or HxWxC with C in (1, 3): float arrays
are used as they are ([0, 1] by the app's convention), uint8/uint16 arrays are divided by their
full scale. A test image and its reference must already share the reference grid
(isp_viewer.metrics.align_to_reference maps outputs of another size onto it).
"""

from __future__ import annotations

import numpy as np

from isp_viewer.core.errors import InputError
from isp_viewer.core.image import Image
from isp_viewer.core.image import as_unit_array as as_array
from isp_viewer.core.region import Region

ArrayLike = Image | np.ndarray

# Display ranges come from percentiles of at most this many samples per array: a strided
# subsample gives the same percentile to display precision at a fraction of the sort cost.
_RANGE_SAMPLES = 1 << 20


def crop(arr: np.ndarray, region: Region | None, what: str = "image") -> np.ndarray:
    """The part of `arr` inside `region` (reference-grid pixels); InputError if nothing is left."""
    return arr if region is None else region.crop_inside(arr, what)

def pair(test: ArrayLike, reference: ArrayLike, region: Region | None) -> tuple[np.ndarray, np.ndarray]:
    """Both images as HxWxC float32 cropped to `region`, with matching channel counts."""
    x = as_array(test, "test image")
    y = as_array(reference, "reference image")
    if x.shape[:2] != y.shape[:2]:
        raise InputError(f"The test image is {x.shape[1]}x{x.shape[0]} but the reference is "
                         f"{y.shape[1]}x{y.shape[0]}; map it onto the reference grid first")
    if x.shape[2] != y.shape[2]:  # grey against RGB: compare the grey one on every channel
        x, y = (np.repeat(x, 3, axis=2), y) if x.shape[2] == 1 else (x, np.repeat(y, 3, axis=2))
    return crop(x, region, "test image"), crop(y, region, "reference image")


def sample(arr: np.ndarray) -> np.ndarray:
    """Finite values of a strided subsample of `arr` (all of them when small)."""
    flat = arr.reshape(-1)
    step = max(1, flat.size // _RANGE_SAMPLES)
    values = flat[::step]
    return values[np.isfinite(values)]
