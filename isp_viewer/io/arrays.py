"""Bayer data saved as NumPy arrays (.npy/.npz), the way RAW datasets and training pipelines ship it.

Two layouts, told apart by shape:
* HxW: the mosaic itself, one sample per pixel, in the order the CFA names.
* HxWx4 (or 4xHxW): packed planes, one per position of the 2x2 cell in row-major order
  (top-left, top-right, bottom-left, bottom-right): for RGGB that is R, G1, G2, B, as
  `pack_raw` in SID / PyNET / Zurich RAW-to-RGB code produces them.
The CFA and bit depth are the user's (a .npy carries neither), like packed-Bayer PNGs.
Integer codes must fit the bit depth; float arrays must be in [0, 1] and are quantised to it.
Files are read with allow_pickle=False: an array file cannot run code.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from isp_viewer.core.errors import InputError
from isp_viewer.io.checks import check_input_file
from isp_viewer.io.raw import RawMosaic

ARRAY_SUFFIXES = {".npy", ".npz"}


def _load(path: Path) -> np.ndarray:
    check_input_file(path)
    try:
        loaded = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        refused_pickle = "pickle" in str(exc)
        reason = ("it holds Python objects (refused: pickles can run code)" if refused_pickle
                  else "not a NumPy array file")
        raise InputError(f"{path.name}: {reason}") from None
    if isinstance(loaded, np.ndarray):
        return loaded
    with loaded:
        names = list(loaded.files)
        if len(names) != 1:
            raise InputError(f"{path.name}: holds {len(names)} arrays ({', '.join(names) or 'none'}); "
                             "save the Bayer data alone in it")
        try:
            return loaded[names[0]]
        except ValueError:
            raise InputError(f"{path.name}: its array holds Python objects (refused: pickles can run code)") from None


def _codes(arr: np.ndarray, bits: int, name: str) -> np.ndarray:
    """uint16 codes in [0, 2**bits - 1]."""
    white = (1 << bits) - 1
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)) or float(arr.min()) < 0 or float(arr.max()) > 1:
            raise InputError(f"{name}: float samples must lie in [0, 1] (found {float(np.nanmin(arr)):.4g}.."
                             f"{float(np.nanmax(arr)):.4g}); save integer codes instead")
        return np.round(arr.astype(np.float64) * white).astype(np.uint16)
    if not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == np.bool_):
        raise InputError(f"{name}: unsupported sample type {arr.dtype}")
    lo, hi = int(arr.min()), int(arr.max())
    if lo < 0 or hi > white:
        raise InputError(f"{name}: values {lo}..{hi} do not fit the stated {bits}-bit range 0..{white}")
    return arr.astype(np.uint16)


def _unpack(planes: np.ndarray) -> np.ndarray:
    h, w = planes.shape[:2]
    mosaic = np.empty((2 * h, 2 * w), planes.dtype)
    for k, (r, c) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        mosaic[r::2, c::2] = planes[..., k]
    return mosaic


def read_bayer_array(path: str | Path, cfa: str | None, bits: int = 10, black: int = 0) -> RawMosaic:
    """A Bayer mosaic from an HxW array or HxWx4 / 4xHxW packed planes (see module doc)."""
    from isp_viewer.io.images import BAYER_PATTERNS, bayer_mosaic

    path = Path(path)
    if not cfa:
        raise InputError(f"{path.name}: a NumPy array does not say its CFA; give --bayer-cfa "
                         f"({', '.join(BAYER_PATTERNS)}) and --bayer-bits")
    if not 1 <= bits <= 16:
        raise InputError(f"bit depth must be between 1 and 16, not {bits}")
    arr = _load(path)
    if arr.ndim == 3 and arr.shape[0] == 4 and arr.shape[2] != 4:
        arr = np.moveaxis(arr, 0, -1)
    if arr.ndim == 2:
        layout = "mosaic"
    elif arr.ndim == 3 and arr.shape[2] == 4:
        layout = "packed planes"
    else:
        raise InputError(f"{path.name}: array of shape {arr.shape}; expected an HxW mosaic or HxWx4 packed planes")
    if min(arr.shape[:2]) == 0:
        raise InputError(f"{path.name}: the array is empty (shape {arr.shape})")
    codes = _codes(arr, bits, path.name)
    mosaic = _unpack(codes) if layout == "packed planes" else codes
    meta = {"raw_type": "numpy-bayer", "layout": layout, "bits": bits, "array_shape": list(arr.shape)}
    return bayer_mosaic(mosaic, cfa.upper(), str(path), bits, black, meta)
