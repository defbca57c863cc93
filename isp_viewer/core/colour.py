"""Colour maths on display sRGB: CIELAB (D65), CIEDE2000, and per-pixel colour/demosaicking maps.

Shared by isp_viewer.metrics (the numbers) and isp_viewer.analysis (the maps), which may not
import each other. Inputs of the map functions follow the image convention of `core.image`
(`Image` or HxW / HxWxC array; float in [0, 1], uint8/uint16 as codes), on one pixel grid.

sRGB [0, 1] (IEC 61966-2-1 transfer function) -> XYZ with the IEC matrix -> CIELAB with the D65
white point xy = (0.3127, 0.3290), Y_n = 1: colour-science's sRGB -> XYZ -> Lab path.
CIEDE2000 follows Sharma, Wu & Dalal (2005) with k_L = k_C = k_H = 1.
The zipper map (phi) and false colour (a*b* distance) are defined in isp_viewer.metrics.artifacts.
"""

from __future__ import annotations

import numpy as np

from isp_viewer.core.errors import InputError
from isp_viewer.core.image import as_unit_array
from isp_viewer.core.region import Region

D65_XY = (0.3127, 0.3290)


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



ZIPPER_THRESHOLD = 2.3   # dE*ab; Lu & Tan (2003): one just-noticeable difference
EDGE_THRESHOLD = 8.0     # |grad L*| per pixel that counts as an edge of the reference
_OFFSETS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)]


def lab_pair(test, reference, region: Region | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Both images in CIELAB (HxWx3 float32), grey repeated to RGB, cropped to `region`."""
    x = as_unit_array(test, "test image")
    y = as_unit_array(reference, "reference image")
    if x.shape[:2] != y.shape[:2]:
        raise InputError(f"The test image is {x.shape[1]}x{x.shape[0]} but the reference is "
                         f"{y.shape[1]}x{y.shape[0]}; map it onto the reference grid first")
    x = np.repeat(x, 3, axis=2) if x.shape[2] == 1 else x
    y = np.repeat(y, 3, axis=2) if y.shape[2] == 1 else y
    if region is not None:
        x, y = region.crop_inside(x, "test image"), region.crop_inside(y, "reference image")
    return srgb_to_lab(x), srgb_to_lab(y)


def de2000_lab_map(lab_t: np.ndarray, lab_r: np.ndarray) -> np.ndarray:
    """HxW float32 CIEDE2000 of two Lab images, in row strips (~25 temporaries) to bound memory."""
    out = np.empty(lab_t.shape[:2], np.float32)
    step = max(1, (1 << 20) // max(1, lab_t.shape[1]))
    for r in range(0, lab_t.shape[0], step):
        out[r:r + step] = delta_e_2000(lab_t[r:r + step], lab_r[r:r + step])
    return out


def _dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = a - b
    return np.sqrt(np.einsum("...k,...k->...", d, d))


def zipper_phi(lab_t: np.ndarray, lab_r: np.ndarray) -> np.ndarray:
    """HxW float32 phi of Lu & Tan (2003), 0 on the 1-pixel frame: for each pixel, the growth in
    dE*ab to the 8-neighbour most similar to it in the reference (first of equals, fixed order)."""
    h, w = lab_r.shape[:2]
    phi = np.zeros((h, w), np.float32)
    if h < 3 or w < 3:
        return phi

    def shifted(a: np.ndarray, dy: int, dx: int) -> np.ndarray:
        return a[1 + dy:h - 1 + dy, 1 + dx:w - 1 + dx]

    centre_r, centre_t = shifted(lab_r, 0, 0), shifted(lab_t, 0, 0)
    best = np.full((h - 2, w - 2), np.inf, np.float32)
    inner = np.zeros((h - 2, w - 2), np.float32)
    for dy, dx in _OFFSETS:
        d_ref = _dist(centre_r, shifted(lab_r, dy, dx))
        closer = d_ref < best
        best = np.where(closer, d_ref, best)
        inner = np.where(closer, _dist(centre_t, shifted(lab_t, dy, dx)) - d_ref, inner)
    phi[1:-1, 1:-1] = inner
    return phi


def chroma_distance(lab_t: np.ndarray, lab_r: np.ndarray) -> np.ndarray:
    """HxW float32 a*b* distance (dE*ab without lightness): the false-colour map."""
    return _dist(lab_t[..., 1:], lab_r[..., 1:]).astype(np.float32)


def lightness_edges(lab_r: np.ndarray, threshold: float = EDGE_THRESHOLD) -> np.ndarray:
    """HxW bool: within 1 px (3x3) of where |grad L*| (central differences, edges replicated)
    of the reference exceeds `threshold` L* per pixel."""
    L = np.pad(lab_r[..., 0].astype(np.float32), 1, mode="edge")
    gx = (L[1:-1, 2:] - L[1:-1, :-2]) * np.float32(0.5)
    gy = (L[2:, 1:-1] - L[:-2, 1:-1]) * np.float32(0.5)
    e = np.pad(np.hypot(gx, gy) > threshold, 1)
    h, w = lab_r.shape[:2]
    out = np.zeros((h, w), bool)
    for dy in range(3):
        for dx in range(3):
            out |= e[dy:dy + h, dx:dx + w]
    return out
