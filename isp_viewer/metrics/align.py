"""Putting a network's output on the reference image's pixel grid before measuring it.

Two cases are legitimate and handled; anything else is an input error, because scoring
misregistered images gives numbers that look plausible and mean nothing:

* a different scale: the output is exactly s times larger or smaller than the reference in
  both dimensions (integer s >= 2). A larger output is averaged over s x s blocks, a smaller
  one is repeated s x s times (how the viewer places it on the grid). Factors above
  `MAX_SCALE` (x8, the largest SR scale in use) are refused unless the caller raises
  `max_scale`: a 1x1 "output" of a 500x500 reference is a mistake, not a x500 network.
* a lost border: networks with unpadded ('valid') convolutions return a slightly smaller
  image, and size-multiple padding may leave a slightly larger one. The larger image is
  centre-cropped to the common size, provided the difference per axis is at most
  `MAX_BORDER_FRACTION` of that axis.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from isp_viewer.core.errors import InputError
from isp_viewer.core.region import Region
from isp_viewer.metrics.convention import ArrayLike, as_unit_array

MAX_BORDER_FRACTION = 1 / 8
MAX_SCALE = 8


@dataclass(frozen=True, eq=False)
class Alignment:
    """A test image and its reference on one grid.

    image, reference: HxWxC float32 in [0, 1] units with equal H and W.
    region: the part of the original reference these arrays cover (reference-grid pixels).
    note: what was done, in words ("" when nothing was needed).
    """

    image: np.ndarray
    reference: np.ndarray
    region: Region
    note: str = ""

    def local(self, roi: Region | None) -> Region | None:
        """A reference-grid ROI in these arrays' coordinates (None stays None); InputError if outside."""
        if roi is None:
            return None
        sub = roi.intersect(self.region)
        if sub.empty:
            raise InputError(f"the ROI {roi.as_tuple()} lies outside the compared area {self.region.as_tuple()}")
        return Region(sub.x - self.region.x, sub.y - self.region.y, sub.w, sub.h)


def align_to_reference(image: ArrayLike, reference: ArrayLike, max_scale: int = MAX_SCALE) -> Alignment:
    """Map `image` onto the grid of `reference` (see module doc); InputError says why not."""
    img = as_unit_array(image, "test image")
    ref = as_unit_array(reference, "reference image")
    (ih, iw), (rh, rw) = img.shape[:2], ref.shape[:2]
    full = Region.full(rw, rh)
    if (ih, iw) == (rh, rw):
        return Alignment(img, ref, full)
    if min(ih, iw, rh, rw) == 0:
        raise InputError(f"Cannot compare an empty image ({iw}x{ih} against {rw}x{rh})")

    if ih >= 2 * rh or iw >= 2 * rw or rh >= 2 * ih or rw >= 2 * iw:
        return _align_scaled(img, ref, full, max_scale)
    return _align_cropped(img, ref)


def _align_scaled(img: np.ndarray, ref: np.ndarray, full: Region, max_scale: int) -> Alignment:
    (ih, iw), (rh, rw) = img.shape[:2], ref.shape[:2]
    if ih >= rh:
        s = ih // rh
        _check_factor(s, f"the output is {iw}x{ih}, x{s} of the {rw}x{rh} reference", max_scale)
        if s * rh != ih or s * rw != iw:
            raise InputError(f"The output is {iw}x{ih}, not an exact x{s} of the {rw}x{rh} reference; "
                             "crop or pad the reference to a multiple of the scale")
        blocks = img.reshape(rh, s, rw, s, img.shape[2])
        down = blocks.mean(axis=(1, 3), dtype=np.float64).astype(np.float32)
        return Alignment(down, ref, full, f"averaged {s}x{s} blocks of the x{s} output")
    s = rh // ih
    _check_factor(s, f"the output is {iw}x{ih}, 1/{s} of the {rw}x{rh} reference", max_scale)
    if s * ih != rh or s * iw != rw:
        raise InputError(f"The output is {iw}x{ih}, not an exact 1/{s} of the {rw}x{rh} reference")
    up = np.repeat(np.repeat(img, s, axis=0), s, axis=1)
    return Alignment(up, ref, full, f"repeated each pixel of the 1/{s} output {s}x{s} times")


def _check_factor(s: int, what: str, max_scale: int) -> None:
    if s > max_scale:
        raise InputError(f"{what}: a scale factor above x{max_scale} is refused unless asked for "
                         f"(allow it with --max-scale {s})")


def _align_cropped(img: np.ndarray, ref: np.ndarray) -> Alignment:
    (ih, iw), (rh, rw) = img.shape[:2], ref.shape[:2]
    for axis, a, b in (("height", ih, rh), ("width", iw, rw)):
        if abs(a - b) > MAX_BORDER_FRACTION * max(a, b):
            raise InputError(f"The output is {iw}x{ih} and the reference {rw}x{rh}: the {axis}s differ by more "
                             "than a network border and are not an integer scale of each other; "
                             "the two images do not match")
    h, w = min(ih, rh), min(iw, rw)
    # Centre crop; an odd difference leaves the extra pixel at the bottom/right.
    ry, rx = (rh - h) // 2, (rw - w) // 2
    iy, ix = (ih - h) // 2, (iw - w) // 2
    region = Region(rx, ry, w, h)
    note = (f"centre-cropped to the common {w}x{h} "
            f"(output {iw}x{ih}, reference {rw}x{rh})")
    return Alignment(img[iy:iy + h, ix:ix + w], region.crop(ref), region, note)
