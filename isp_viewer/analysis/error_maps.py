"""Per-pixel error maps of a method's output against the reference, with a display range.

All maps are HxW float32 on the reference grid (or on `region` of it). Colour channels are
averaged unless one `channel` is asked for: the map shows where the error is, the metrics say
how large it is. The UI picks the colour map; `diverging` says whether zero is the middle.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from isp_viewer.analysis._inputs import ArrayLike, pair, sample
from isp_viewer.core.errors import InputError
from isp_viewer.core.image import Image
from isp_viewer.core.region import Region

Kind = Literal["absolute", "signed", "squared", "relative", "ssim", "flip"]
KINDS: tuple[str, ...] = ("absolute", "signed", "squared", "relative", "ssim", "flip")

# Relative error divides by max(reference, RELATIVE_FLOOR): one 8-bit code, so that black
# reference pixels show large-but-finite values instead of infinities.
RELATIVE_FLOOR = 1.0 / 255.0
DEFAULT_PERCENTILE = 99.0
# Maps with a natural scale keep it; the others are scaled to a percentile of their values.
_FIXED_RANGES = {"ssim": (0.0, 1.0), "flip": (0.0, 1.0)}
_LABELS = {
    "absolute": "absolute error |test - ref|",
    "signed": "signed error test - ref",
    "squared": "squared error (test - ref)^2",
    "relative": "relative error |test - ref| / ref",
    "ssim": "SSIM map (1 = identical)",
    "flip": "FLIP error (0 = identical)",
}
_SSIM_C1, _SSIM_C2 = 0.01 ** 2, 0.03 ** 2  # K1, K2 of Wang et al. for data in [0, 1]


@dataclass(frozen=True, eq=False)
class ErrorMap:
    """data: HxW float32; suggested_range: (lo, hi) to map onto the colour scale."""

    data: np.ndarray
    kind: str
    suggested_range: tuple[float, float]
    diverging: bool
    label: str

    def __post_init__(self) -> None:
        arr = np.ascontiguousarray(self.data, dtype=np.float32)
        if arr.ndim != 2:
            raise ValueError(f"ErrorMap data must be HxW, got shape {arr.shape}")
        arr.setflags(write=False)
        object.__setattr__(self, "data", arr)


def error_map(test: ArrayLike, reference: ArrayLike, kind: Kind = "absolute",
              region: Region | None = None, channel: int | None = None,
              percentile: float = DEFAULT_PERCENTILE) -> ErrorMap:
    """The `kind` map of `test` against `reference` (same grid), cropped to `region`.

    absolute |t - r|, signed t - r, squared (t - r)^2 and relative |t - r| / max(r, 1/255) are
    averaged over channels (or taken on `channel`); ssim is the local SSIM (11x11 Gaussian,
    sigma 1.5; borders mirrored so the map keeps the image size); flip is LDR-FLIP under its
    default viewing conditions (about 67 pixels per degree).
    The suggested range is the natural one for ssim/flip, otherwise up to the `percentile`
    of the values (symmetric around 0 for signed).
    """
    if kind not in KINDS:
        raise ValueError(f"Unknown error map kind {kind!r}; choose from {KINDS}")
    x, y = pair(test, reference, region)
    if channel is not None:
        if not 0 <= channel < x.shape[2]:
            raise InputError(f"Channel {channel} does not exist in a {x.shape[2]}-channel image")
        x, y = x[:, :, channel:channel + 1], y[:, :, channel:channel + 1]
    if kind == "flip":
        linear = isinstance(reference, Image) and reference.linear
        data = _flip_map(x, y, srgb=not linear)
    elif kind == "ssim":
        data = _ssim_map(x, y)
    else:
        data = _pixel_error(x, y, kind)
    return ErrorMap(data, kind, range_for(kind, [data], percentile), kind == "signed", _LABELS[kind])


def range_for(kind: str, arrays: Sequence[np.ndarray], percentile: float = DEFAULT_PERCENTILE) -> tuple[float, float]:
    """Display range for maps of one kind: fixed for ssim/flip, else the `percentile` of all values."""
    if kind in _FIXED_RANGES:
        return _FIXED_RANGES[kind]
    values = np.concatenate([sample(np.abs(a) if kind == "signed" else a) for a in arrays])
    hi = float(np.percentile(values, percentile)) if values.size else 0.0
    hi = max(hi, 1e-6)  # identical images still get a usable, non-empty range
    return (-hi, hi) if kind == "signed" else (0.0, hi)


def shared_range(maps: Sequence[ErrorMap], percentile: float = DEFAULT_PERCENTILE) -> tuple[float, float]:
    """One range for several methods' maps of the same kind, so their colours compare."""
    if not maps:
        raise ValueError("shared_range needs at least one map")
    kinds = {m.kind for m in maps}
    if len(kinds) != 1:
        raise ValueError(f"Maps of different kinds cannot share a range: {sorted(kinds)}")
    return range_for(maps[0].kind, [m.data for m in maps], percentile)


def with_shared_range(maps: Sequence[ErrorMap], percentile: float = DEFAULT_PERCENTILE) -> list[ErrorMap]:
    """The same maps, all carrying their `shared_range`."""
    lo_hi = shared_range(maps, percentile)
    return [dataclasses.replace(m, suggested_range=lo_hi) for m in maps]


def _pixel_error(x: np.ndarray, y: np.ndarray, kind: str) -> np.ndarray:
    """Per-pixel error averaged over channels; OpenCV keeps 12 MP maps interactive."""
    if kind == "signed":
        err = cv2.subtract(x, y)
    else:
        err = cv2.absdiff(x, y)
        if kind == "squared":
            err = cv2.multiply(err, err, dst=err)
        elif kind == "relative":
            err = cv2.divide(err, np.maximum(y, np.float32(RELATIVE_FLOOR)), dst=err)
    return _channel_mean(err.reshape(x.shape))


def _channel_mean(arr: np.ndarray) -> np.ndarray:
    c = arr.shape[2]
    if c == 1:
        return arr[:, :, 0]
    return cv2.transform(arr, np.full((1, c), 1.0 / c, np.float32))


def _gauss(x: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(x, (11, 11), 1.5, borderType=cv2.BORDER_REFLECT)


def _ssim_map(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Channel-averaged local SSIM, one channel at a time to bound memory on 12 MP images.

    Array-array OpenCV arithmetic only (a Python scalar would be read as a 4-vector Scalar).
    """
    h, w, c = x.shape
    if h < 11 or w < 11:
        raise InputError(f"An SSIM map needs at least 11x11 pixels, got {w}x{h}")
    total = np.zeros((h, w), np.float32)
    for k in range(c):
        a = np.ascontiguousarray(x[:, :, k])
        b = np.ascontiguousarray(y[:, :, k])
        ma, mb = _gauss(a), _gauss(b)
        energy = cv2.multiply(a, a)
        cv2.accumulateSquare(b, energy)
        s2 = _gauss(energy)
        sxy = _gauss(cv2.multiply(a, b, dst=energy))
        p = cv2.multiply(ma, mb)
        q = cv2.multiply(ma, ma, dst=ma)
        cv2.accumulateSquare(mb, q)
        cs = cv2.divide(cv2.addWeighted(sxy, 2.0, p, -2.0, _SSIM_C2, dst=sxy),
                        cv2.addWeighted(s2, 1.0, q, -1.0, _SSIM_C2, dst=s2))
        lum = cv2.divide(cv2.addWeighted(p, 2.0, p, 0.0, _SSIM_C1, dst=p),
                         cv2.addWeighted(q, 1.0, q, 0.0, _SSIM_C1, dst=q))
        cv2.accumulateProduct(lum, cs, total)
    if c > 1:
        total *= np.float32(1.0 / c)
    return total


def _flip_map(x: np.ndarray, y: np.ndarray, srgb: bool) -> np.ndarray:
    import flip_evaluator  # loaded on first use, like the other optional metrics libraries

    def rgb(a: np.ndarray) -> np.ndarray:
        a = np.repeat(a, 3, axis=2) if a.shape[2] == 1 else a
        return np.ascontiguousarray(np.clip(a, 0.0, 1.0), dtype=np.float32)

    # flip_evaluator exits the process on bad arguments: only valid ones reach it.
    fmap, _, _ = flip_evaluator.evaluate(rgb(y), rgb(x), "LDR", inputsRGB=srgb, applyMagma=False,
                                         computeMeanError=False, parameters={})
    return fmap[:, :, 0]
