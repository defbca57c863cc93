"""Colour difference: sRGB to CIELAB (D65) and CIEDE2000 per pixel, with mean and 95th percentile.

Convention: inputs are display-referred sRGB in [0, 1] (IEC 61966-2-1 transfer function), taken to
CIE XYZ with the IEC matrix, then to CIELAB with the D65 white point xy = (0.3127, 0.3290), Y_n = 1. This is colour-science's sRGB -> XYZ -> Lab path with illuminant D65.
CIEDE2000 follows Sharma, Wu & Dalal (2005), "The CIEDE2000 color-difference formula:
implementation notes, supplementary test data, and mathematical observations", with
k_L = k_C = k_H = 1; their 34 test pairs are reproduced to 1e-4.
dE ITP (ITU-R BT.2124) is offered through colour-science (imported only when asked for).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from isp_viewer.core.errors import InputError
from isp_viewer.core.region import Region
from isp_viewer.metrics.convention import ArrayLike, as_unit_array, crop_region

D65_XY = (0.3127, 0.3290)
DE2000_CONVENTION = "CIEDE2000 (kL=kC=kH=1), sRGB [0,1] -> CIELAB, D65, per pixel"
DEITP_CONVENTION = "dE ITP (BT.2124), sRGB [0,1] display-referred, 100 cd/m2 white"


# IEC 61966-2-1's own (4-decimal) matrix, as colour-science uses it; CIELAB's white is the
# D65 chromaticity with Y = 1, so white (1, 1, 1) lands within 0.02 of L* = 100, a* = b* = 0.
SRGB_TO_XYZ = np.array([[0.4124, 0.3576, 0.1805],
                        [0.2126, 0.7152, 0.0722],
                        [0.0193, 0.1192, 0.9505]])
D65_WHITE_XYZ = np.array([D65_XY[0] / D65_XY[1], 1.0, (1.0 - D65_XY[0] - D65_XY[1]) / D65_XY[1]])


def srgb_to_linear(rgb: np.ndarray) -> np.ndarray:
    """IEC 61966-2-1 decoding of [0, 1] sRGB values (same dtype as the input float array)."""
    a = np.asarray(rgb)
    low = a * a.dtype.type(1 / 12.92)
    high = ((a + a.dtype.type(0.055)) * a.dtype.type(1 / 1.055)) ** a.dtype.type(2.4)
    return np.where(a <= a.dtype.type(0.04045), low, high)


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """HxWx3 (or Nx3) sRGB in [0, 1] -> CIELAB (L* in [0, 100]) under D65; keeps float32/64."""
    a = np.asarray(rgb)
    if a.dtype not in (np.float32, np.float64):
        a = a.astype(np.float32)
    t = a.dtype.type
    lin = srgb_to_linear(np.clip(a, 0.0, 1.0))
    m = (SRGB_TO_XYZ / D65_WHITE_XYZ[:, None]).astype(a.dtype)
    xyz_n = lin @ m.T
    eps, kappa = 216 / 24389, 24389 / 27
    f = np.where(xyz_n > t(eps), np.cbrt(xyz_n), (xyz_n * t(kappa) + t(16)) * t(1 / 116))
    lab = np.empty_like(f)
    lab[..., 0] = t(116) * f[..., 1] - t(16)
    lab[..., 1] = t(500) * (f[..., 0] - f[..., 1])
    lab[..., 2] = t(200) * (f[..., 1] - f[..., 2])
    return lab


def delta_e_2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 between two CIELAB arrays (..., 3); the result has their leading shape.

    Hue angles are in degrees on [0, 360); the mean hue and the hue difference follow Sharma's
    equations (10)-(14) and (7)-(8) including the cases for |h1' - h2'| > 180 and zero chroma.
    """
    lab1, lab2 = np.asarray(lab1), np.asarray(lab2)
    dt = np.result_type(lab1.dtype, lab2.dtype, np.float32)
    t = dt.type
    L1, a1, b1 = (lab1[..., k].astype(dt, copy=False) for k in range(3))
    L2, a2, b2 = (lab2[..., k].astype(dt, copy=False) for k in range(3))
    c_bar = (np.hypot(a1, b1) + np.hypot(a2, b2)) * t(0.5)
    c7 = c_bar ** 7
    g = t(0.5) * (t(1) - np.sqrt(c7 / (c7 + t(25.0 ** 7))))
    a1p, a2p = a1 * (t(1) + g), a2 * (t(1) + g)
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.where(c1p == 0, t(0), np.degrees(np.arctan2(b1, a1p)) % t(360))
    h2p = np.where(c2p == 0, t(0), np.degrees(np.arctan2(b2, a2p)) % t(360))
    dLp, dCp = L2 - L1, c2p - c1p
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - t(360), np.where(dh < -180, dh + t(360), dh))
    chroma_zero = (c1p * c2p) == 0
    dh = np.where(chroma_zero, t(0), dh)
    dHp = t(2) * np.sqrt(c1p * c2p) * np.sin(np.radians(dh * t(0.5)))
    L_bar, c_bar_p = (L1 + L2) * t(0.5), (c1p + c2p) * t(0.5)
    h_sum = h1p + h2p
    far = np.abs(h1p - h2p) > 180
    h_bar = np.where(far, np.where(h_sum < 360, h_sum + t(360), h_sum - t(360)), h_sum) * t(0.5)
    h_bar = np.where(chroma_zero, h_sum, h_bar)
    T = (t(1) - t(0.17) * np.cos(np.radians(h_bar - t(30))) + t(0.24) * np.cos(np.radians(t(2) * h_bar))
         + t(0.32) * np.cos(np.radians(t(3) * h_bar + t(6))) - t(0.20) * np.cos(np.radians(t(4) * h_bar - t(63))))
    d_theta = t(30) * np.exp(-(((h_bar - t(275)) / t(25)) ** 2))
    cbp7 = c_bar_p ** 7
    r_c = t(2) * np.sqrt(cbp7 / (cbp7 + t(25.0 ** 7)))
    l50 = (L_bar - t(50)) ** 2
    s_l = t(1) + t(0.015) * l50 / np.sqrt(t(20) + l50)
    s_c = t(1) + t(0.045) * c_bar_p
    s_h = t(1) + t(0.015) * c_bar_p * T
    r_t = -np.sin(np.radians(t(2) * d_theta)) * r_c
    tl, tc, th = dLp / s_l, dCp / s_c, dHp / s_h
    return np.sqrt(tl * tl + tc * tc + th * th + r_t * tc * th)


@dataclass(frozen=True)
class ColourDifference:
    """Summary of a dE map: mean and 95th percentile over all kept pixels."""

    mean: float
    p95: float
    convention: str = DE2000_CONVENTION


def _same_grid(x: np.ndarray, y: np.ndarray) -> None:
    if x.shape[:2] != y.shape[:2]:
        raise InputError(f"The test image is {x.shape[1]}x{x.shape[0]} but the reference is "
                         f"{y.shape[1]}x{y.shape[0]}; map it onto the reference grid first")


def _lab_pair(test: ArrayLike, reference: ArrayLike, region: Region | None) -> tuple[np.ndarray, np.ndarray]:
    x = as_unit_array(test, "test image")
    y = as_unit_array(reference, "reference image")
    _same_grid(x, y)
    if x.shape[2] == 1:
        x = np.repeat(x, 3, axis=2)
    if y.shape[2] == 1:
        y = np.repeat(y, 3, axis=2)
    return srgb_to_lab(crop_region(x, region, "test image")), srgb_to_lab(crop_region(y, region, "reference image"))


def de2000_map(test: ArrayLike, reference: ArrayLike, region: Region | None = None) -> np.ndarray:
    """HxW float32 CIEDE2000 of `test` against `reference` (same grid), sRGB/D65 as above."""
    lab_t, lab_r = _lab_pair(test, reference, region)
    # Row strips bound the temporaries (~25 float32 buffers) on 12 MP images.
    out = np.empty(lab_t.shape[:2], np.float32)
    step = max(1, (1 << 20) // max(1, lab_t.shape[1]))
    for r in range(0, lab_t.shape[0], step):
        out[r:r + step] = delta_e_2000(lab_t[r:r + step], lab_r[r:r + step])
    return out


def de2000(test: ArrayLike, reference: ArrayLike, region: Region | None = None) -> ColourDifference:
    """Mean and 95th-percentile CIEDE2000 over the pixels of the pair."""
    d = de2000_map(test, reference, region)
    return ColourDifference(float(d.mean(dtype=np.float64)), float(np.percentile(d, 95)))


def deitp_map(test: ArrayLike, reference: ArrayLike, region: Region | None = None) -> np.ndarray:
    """HxW dE ITP (BT.2124) through colour-science; display sRGB with its white at 100 cd/m2."""
    import colour  # slow to import: only when dE ITP is asked for

    x = as_unit_array(test, "test image")
    y = as_unit_array(reference, "reference image")
    _same_grid(x, y)
    x, y = crop_region(x, region, "test image"), crop_region(y, region, "reference image")

    def ictcp(a: np.ndarray) -> np.ndarray:
        rgb2020 = colour.RGB_to_RGB(srgb_to_linear(np.clip(a.astype(np.float64), 0, 1)), "sRGB", "ITU-R BT.2020")
        return colour.RGB_to_ICtCp(rgb2020 * 100.0)  # colour takes cd/m2: white at 100 cd/m2

    return colour.difference.delta_E_ITP(ictcp(x), ictcp(y)).astype(np.float32)
