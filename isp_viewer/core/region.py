"""Rectangles on the reference image's pixel grid."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Region:
    """x, y: top-left pixel; w, h: size in pixels. Half-open: covers [x, x+w) x [y, y+h)."""

    x: int
    y: int
    w: int
    h: int

    def __post_init__(self) -> None:
        if self.w < 0 or self.h < 0:
            raise ValueError(f"Region size must be non-negative, got {self.w}x{self.h}")

    @classmethod
    def full(cls, width: int, height: int) -> Region:
        return cls(0, 0, width, height)

    @property
    def empty(self) -> bool:
        return self.w == 0 or self.h == 0

    @property
    def x1(self) -> int:
        return self.x + self.w

    @property
    def y1(self) -> int:
        return self.y + self.h

    def intersect(self, other: Region) -> Region:
        x0, y0 = max(self.x, other.x), max(self.y, other.y)
        x1, y1 = min(self.x1, other.x1), min(self.y1, other.y1)
        return Region(x0, y0, max(0, x1 - x0), max(0, y1 - y0))

    def pad(self, n: int) -> Region:
        return Region(self.x - n, self.y - n, self.w + 2 * n, self.h + 2 * n)

    def scale(self, s: float) -> Region:
        """The same area on a grid `s` times finer (e.g. a x4 output)."""
        return Region(int(round(self.x * s)), int(round(self.y * s)), int(round(self.w * s)), int(round(self.h * s)))

    def clip_to(self, width: int, height: int) -> Region:
        return self.intersect(Region(0, 0, width, height))

    def slices(self) -> tuple[slice, slice]:
        return slice(self.y, self.y1), slice(self.x, self.x1)

    def crop(self, array: np.ndarray) -> np.ndarray:
        ys, xs = self.slices()
        return array[ys, xs]

    def crop_inside(self, array: np.ndarray, what: str = "image") -> np.ndarray:
        """The part of `array` inside this region (clipped to it); InputError when nothing is left."""
        from isp_viewer.core.errors import InputError

        h, w = array.shape[:2]
        clipped = self.clip_to(w, h)
        if clipped.empty:
            raise InputError(f"The region {self.as_tuple()} lies outside the {w}x{h} {what}")
        return clipped.crop(array)

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.x, self.y, self.w, self.h)

    @classmethod
    def parse(cls, text: str) -> Region:
        """'x,y,w,h' in pixels (as typed after --roi); InputError with the expected form otherwise."""
        from isp_viewer.core.errors import InputError

        try:
            x, y, w, h = (int(v) for v in text.split(","))
            return cls(x, y, w, h)
        except ValueError:
            raise InputError(f"an ROI is x,y,w,h in whole pixels with w, h >= 0, got {text!r}") from None


def fit_region(region: Region, width: int, height: int) -> tuple[Region, str | None]:
    """The rule for a user's ROI on a width x height image, the same in the CLI and the window.

    Inside: kept as is, no warning. Partly outside: clamped to the image, with a warning that
    names both rectangles (scores of a smaller area must not pass silently as the asked one).
    Entirely outside or empty: InputError.
    """
    from isp_viewer.core.errors import InputError

    clamped = region.clip_to(width, height)
    if region.empty or clamped.empty:
        raise InputError(f"the ROI {region.as_tuple()} lies outside the {width}x{height} image"
                         + (" (it is empty)" if region.empty else ""))
    if clamped == region:
        return region, None
    return clamped, (f"the ROI {region.as_tuple()} reaches outside the {width}x{height} image; "
                     f"using its inside part {clamped.as_tuple()}")
