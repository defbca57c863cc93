"""2x2 Bayer helpers shared by the RAW networks (PyNET, PyNET-CA, SGNet, CycleISP): checking a
mosaic and its CFA, bringing any phase to RGGB (by reflection or by flips) and packing 2x2 cells
into planes. demosaicnet keeps its own cell-shift padding: it also serves the 6x6 X-Trans cell,
whose trained layout (one for demosaicnet and Kokkinos MMNet) is written here once.

Mosaics here are HxW float32 arrays whose CFA string reads the 2x2 cell row-major from pixel (0, 0).
"""

from __future__ import annotations

import numpy as np

from isp_viewer.core.errors import ModelError

# The 6x6 X-Trans cell, row-major from pixel (0, 0), that both demosaicnet (mosaic.xtrans_cell) and
# Kokkinos & Lefkimmiatis (utils.generate_mask 'xtrans') were trained on; each network's tests
# check it against its own upstream.
TRAINED_XTRANS_CELL = (
    "GBGGRG"
    "RGRBGB"
    "GBGGRG"
    "GRGGBG"
    "BGBRGR"
    "GRGGBG"
)

# Position (row, column) of the red sample in each supported 2x2 pattern.
RED_OFFSET = {"RGGB": (0, 0), "GRBG": (0, 1), "GBRG": (1, 0), "BGGR": (1, 1)}
BAYER_PATTERNS = tuple(RED_OFFSET)


def bayer_pattern(cfa: str | None, network: str) -> str:
    """The upper-cased 2x2 Bayer pattern, or ModelError saying why `network` cannot use this CFA."""
    if cfa is None:
        raise ModelError(f"{network} needs the mosaic's CFA pattern (e.g. RGGB)")
    pattern = cfa.upper()
    if len(pattern) == 36:
        raise ModelError(f"{network} works on 2x2 Bayer mosaics only, not X-Trans")
    if pattern not in RED_OFFSET:
        raise ModelError(f"{network} does not support the CFA pattern {cfa!r}: it takes a 2x2 Bayer CFA "
                         "(RGGB, BGGR, GRBG or GBRG)")
    return pattern


def validate_mosaic(x: np.ndarray, cfa: str | None, network: str, min_side: int = 2) -> str:
    """Check that `x` is an HxW mosaic of at least min_side pixels a side with a 2x2 Bayer CFA;
    return the upper-cased pattern (ModelError with a user-facing reason otherwise)."""
    x = np.asarray(x)
    if x.ndim != 2:
        raise ModelError(f"{network} needs a RAW Bayer mosaic (HxW), got an array of shape {x.shape}")
    pattern = bayer_pattern(cfa, network)
    h, w = x.shape
    if min(h, w) < min_side:
        raise ModelError(f"{network} needs at least {min_side}x{min_side} pixels, got {w}x{h}")
    return pattern


def rggb_padding(h: int, w: int, cfa: str, multiple: int = 2, min_side: int = 0) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) reflection padding that makes an HxW `cfa` mosaic RGGB-phased
    with sides that are multiples of `multiple` (even) and at least `min_side`.

    Reflection maps row -k to row k and row h-1+k to h-1-k, both of the same parity, so a
    reflected border continues the CFA pattern; padding the top by 1 therefore brings an odd
    raw row (the one holding red for GBRG/BGGR) to row 0.
    """
    top, left = RED_OFFSET[cfa]
    padded_h = max(-(-(h + top) // multiple) * multiple, min_side)
    padded_w = max(-(-(w + left) // multiple) * multiple, min_side)
    return top, padded_h - h - top, left, padded_w - w - left


def reflect_to_rggb(x: np.ndarray, cfa: str, multiple: int = 2,
                    min_side: int = 0) -> tuple[np.ndarray, tuple[int, int]]:
    """Reflect-pad an HxW mosaic into an RGGB-phased float32 frame (see `rggb_padding`).

    Returns the frame and the (top, left) origin of the input inside it."""
    h, w = np.shape(x)
    top, bottom, left, right = rggb_padding(h, w, cfa, multiple, min_side)
    padded = np.pad(np.asarray(x, dtype=np.float32), ((top, bottom), (left, right)), mode="reflect")
    return padded, (top, left)


def rggb_flips(cfa: str | None, network: str) -> tuple[bool, bool]:
    """(flip up-down, flip left-right) that bring a 2x2 Bayer pattern to RGGB (upstream CycleISP's
    DND way of handling other phases)."""
    red = bayer_pattern(cfa, network).index("R")
    return red // 2 == 1, red % 2 == 1


def flip(array: np.ndarray, flips: tuple[bool, bool]) -> np.ndarray:
    """Apply (up-down, left-right) flips to the first two axes; its own inverse."""
    if flips[0]:
        array = array[::-1]
    if flips[1]:
        array = array[:, ::-1]
    return array


def pad_to_even(array: np.ndarray) -> np.ndarray:
    """Reflect-pad the bottom/right to even H, W. Reflection keeps a Bayer mosaic's CFA phase."""
    pad_h, pad_w = array.shape[0] % 2, array.shape[1] % 2
    if not (pad_h or pad_w):
        return array
    widths = [(0, pad_h), (0, pad_w)] + [(0, 0)] * (array.ndim - 2)
    return np.pad(array, widths, mode="reflect")


def pack_rggb(mosaic: np.ndarray) -> np.ndarray:
    """HxW RGGB mosaic (H, W even) -> 4 x H/2 x W/2 planes in the order (0,0), (0,1), (1,0), (1,1):
    R, G(0,1), G(1,0), B."""
    return np.stack([mosaic[0::2, 0::2], mosaic[0::2, 1::2], mosaic[1::2, 0::2], mosaic[1::2, 1::2]])


def unpack_rggb(packed: np.ndarray) -> np.ndarray:
    """Inverse of `pack_rggb`: 4 x h x w -> 2h x 2w mosaic."""
    _, h, w = packed.shape
    mosaic = np.empty((2 * h, 2 * w), dtype=packed.dtype)
    mosaic[0::2, 0::2], mosaic[0::2, 1::2] = packed[0], packed[1]
    mosaic[1::2, 0::2], mosaic[1::2, 1::2] = packed[2], packed[3]
    return mosaic
