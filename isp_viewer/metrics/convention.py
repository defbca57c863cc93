"""How a number was measured: the channel, border, quantisation and range behind every metric.

Input convention at this boundary: an `Image` (HxWxC float32 in [0, 1]) or an ndarray that is
HxW or HxWxC with C in (1, 3). Float arrays are taken to be in [0, 1] like `Image` data; uint8
and uint16 arrays are read as 8-/16-bit codes and divided by their full scale. Metrics are
computed in [0, 1] units with constants scaled to match, which gives the same PSNR/SSIM as
computing on the [0, data_range] scale (both are scale invariant); `data_range` is recorded so
the caption says which scale a reader should compare against. The peak is therefore always the
full scale of the inputs: divide scene-linear or HDR data by the peak you mean first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from isp_viewer.core.errors import InputError
from isp_viewer.core.image import Image, as_unit_array
from isp_viewer.core.region import Region

ArrayLike = Image | np.ndarray
Channel = Literal["rgb", "y"]
YRounding = Literal["float", "matlab"]

# The two Y conventions of the SR literature. Both take BT.601 studio-range Y of the (uint8) RGB;
# they differ in what happens to Y before the statistics.
Y_CONVENTIONS = {
    "float": "BasicSR (Y in float from uint8 RGB)",      # basicsr.utils.bgr2ycbcr(y_only=True)
    "matlab": "MATLAB (Y rounded to uint8, ties as MATLAB)",  # rgb2ycbcr on uint8: round half away
}

# ITU-R BT.601 studio-range luma as MATLAB's rgb2ycbcr and the SR literature compute it:
# Y = 16 + 65.481 R + 128.553 G + 24.966 B for R, G, B in [0, 1], giving Y in [16, 235] / 255.
BT601_OFFSET = 16.0
BT601_WEIGHTS = (65.481, 128.553, 24.966)


@dataclass(frozen=True)
class Convention:
    """The settings a metric value depends on; stored beside every value we report.

    channel: "rgb" (all channels, averaged) or "y" (BT.601 studio-range luma, see `rgb_to_y`).
    data_range: peak value of the scale the numbers refer to (1 for [0, 1], 255 for 8-bit).
    crop_border: pixels dropped on every side before measuring (SR papers crop `scale`).
    quantize_uint8: round to 8-bit codes first, as when outputs are saved as PNG before scoring.
    y_rounding: for channel "y": "float" keeps Y as computed (BasicSR), "matlab" rounds Y to
        8-bit codes with ties away from zero, as MATLAB's rgb2ycbcr returns uint8 for uint8 input.
    """

    channel: Channel = "rgb"
    data_range: float = 1.0
    crop_border: int = 0
    quantize_uint8: bool = False
    name: str = "custom"
    y_rounding: YRounding = "float"

    def __post_init__(self) -> None:
        if self.channel not in ("rgb", "y"):
            raise ValueError(f"channel must be 'rgb' or 'y', got {self.channel!r}")
        if not self.data_range > 0:
            raise ValueError(f"data_range must be positive, got {self.data_range}")
        if self.crop_border < 0:
            raise ValueError(f"crop_border must be >= 0, got {self.crop_border}")
        if self.y_rounding not in Y_CONVENTIONS:
            raise ValueError(f"y_rounding must be 'float' or 'matlab', got {self.y_rounding!r}")

    def describe(self) -> str:
        """One line to print beside every number, e.g.
        'PSNR/SSIM on Y (BT.601, BasicSR float Y), crop 4 px, uint8, range 255'."""
        rounding = "MATLAB uint8 Y" if self.y_rounding == "matlab" else "BasicSR float Y"
        channel = f"Y (BT.601, {rounding})" if self.channel == "y" else "RGB"
        crop = f"crop {self.crop_border} px" if self.crop_border else "no crop"
        values = "uint8" if self.quantize_uint8 else "float"
        return f"PSNR/SSIM on {channel}, {crop}, {values}, range {self.data_range:g}"


def SR_PAPER(scale: int) -> Convention:  # noqa: N802  (a preset, named like the ISP_PAPER constant)
    """Super-resolution papers as BasicSR scores them: RGB rounded to uint8, Y in float
    ("BasicSR (Y in float from uint8 RGB)"), crop `scale` px, range 255."""
    return Convention(channel="y", data_range=255.0, crop_border=int(scale), quantize_uint8=True,
                      name="SR paper, BasicSR Y (Y, crop = scale, uint8)")


def SR_PAPER_MATLAB(scale: int) -> Convention:  # noqa: N802  (named like SR_PAPER)
    """Super-resolution papers scored with MATLAB: as `SR_PAPER` but Y itself rounded to uint8
    ("MATLAB (Y rounded to uint8, ties as MATLAB)")."""
    return Convention(channel="y", data_range=255.0, crop_border=int(scale), quantize_uint8=True,
                      name="SR paper, MATLAB Y (Y, crop = scale, uint8)", y_rounding="matlab")


ISP_PAPER = Convention(channel="rgb", data_range=1.0, crop_border=0, quantize_uint8=False,
                       name="ISP paper (RGB, [0,1])")


def rgb_to_y(rgb: np.ndarray, rounding: YRounding = "float") -> np.ndarray:
    """BT.601 studio-range luma of HxWx3 [0, 1] RGB, as HxWx1 float32 in [16, 235] / 255.

    rounding "float": BasicSR (Y in float); "matlab": Y rounded to 8-bit codes, ties away from 0.
    """
    y = _luma(rgb, 1.0)
    return _round_y_matlab(y) if rounding == "matlab" else y


def _round_y_matlab(y: np.ndarray) -> np.ndarray:
    """Y in [0, 1] units rounded to 8-bit codes as MATLAB's uint8 cast does (half away from 0;
    Y is positive, so floor(v + 0.5)), back in [0, 1] units."""
    return (np.floor(y * np.float32(255.0) + np.float32(0.5)) * np.float32(1.0 / 255)).astype(np.float32)


def quantize_uint8(x: np.ndarray, what: str = "image") -> np.ndarray:
    """Round [0, 1] values to the nearest 8-bit code (ties to even, like torch.round), in [0, 1] units."""
    return _codes(x, what).astype(np.float32) * np.float32(1.0 / 255)


def _codes(x: np.ndarray, what: str) -> np.ndarray:
    """uint8 codes of [0, 1] values: round(clip(x, 0, 1) * 255), ties to even."""
    peak = float(x.max()) if x.size else 0.0
    # A float array in [0, 255] would be clipped to white here and score nonsense: say so instead.
    if peak > 1.0 + 1.0 / 255:
        raise InputError(f"The {what} has values up to {peak:g}; float images must be in [0, 1] "
                         "(pass uint8 arrays for 8-bit codes)")
    clipped = np.clip(x, 0.0, 1.0)
    # OpenCV rounds to nearest even on conversion; the input is non-negative, so no abs effect.
    codes = cv2.convertScaleAbs(clipped, alpha=255.0)
    return codes.reshape(x.shape)


def _luma(rgb: np.ndarray, unit: float) -> np.ndarray:
    """BT.601 Y of RGB given in [0, unit], as HxWx1 float32 in [0, 1] units."""
    wr, wg, wb = (w / (255.0 * unit) for w in BT601_WEIGHTS)
    matrix = np.array([[wr, wg, wb, BT601_OFFSET / 255.0]], dtype=np.float32)
    src = rgb if rgb.dtype == np.float32 else rgb.astype(np.float32)
    return cv2.transform(src, matrix).reshape(rgb.shape[0], rgb.shape[1], 1)


def crop_region(arr: np.ndarray, region: Region | None, what: str = "image") -> np.ndarray:
    """The part of `arr` inside `region` (reference-grid pixels); InputError if nothing is left."""
    return arr if region is None else region.crop_inside(arr, what)

def crop_border(arr: np.ndarray, n: int) -> np.ndarray:
    if n == 0:
        return arr
    h, w = arr.shape[:2]
    if h <= 2 * n or w <= 2 * n:
        raise InputError(f"A {w}x{h} image is too small for a {n} px border crop")
    return arr[n:h - n, n:w - n]


def _match_channels(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Grey against RGB: repeat the grey channel so both have three."""
    if x.shape[2] == y.shape[2]:
        return x, y
    if x.shape[2] == 1:
        return np.repeat(x, 3, axis=2), y
    return x, np.repeat(y, 3, axis=2)


def prepare_pair(test: ArrayLike, reference: ArrayLike, conv: Convention,
                 region: Region | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Apply a convention to an image pair: region, border crop, uint8 rounding, channel.

    Returns two HxWxC float32 arrays in [0, 1] units (C = 1 for Y, else the images' channels).
    Both inputs must already share the reference grid (see `align_to_reference`).
    """
    x = as_unit_array(test, "test image")
    y = as_unit_array(reference, "reference image")
    if x.shape[:2] != y.shape[:2]:
        raise InputError(f"The test image is {x.shape[1]}x{x.shape[0]} but the reference is "
                         f"{y.shape[1]}x{y.shape[0]}; map it onto the reference grid first "
                         "(align_to_reference)")
    x, y = _match_channels(x, y)
    x = crop_border(crop_region(x, region, "test image"), conv.crop_border)
    y = crop_border(crop_region(y, region, "reference image"), conv.crop_border)
    to_y = conv.channel == "y" and x.shape[2] == 3
    if conv.quantize_uint8:
        xc, yc = _codes(x, "test image"), _codes(y, "reference image")
        if to_y:  # Y straight from the codes saves a pass over the RGB data
            if conv.y_rounding == "matlab":
                return _round_y_matlab(_luma(xc, 255.0)), _round_y_matlab(_luma(yc, 255.0))
            return _luma(xc, 255.0), _luma(yc, 255.0)
        return (xc.astype(np.float32) * np.float32(1.0 / 255), yc.astype(np.float32) * np.float32(1.0 / 255))
    if to_y:
        return rgb_to_y(x, conv.y_rounding), rgb_to_y(y, conv.y_rounding)
    return x, y
