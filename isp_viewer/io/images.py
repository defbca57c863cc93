"""Ordinary images (PNG/TIFF/JPEG/BMP, 8 or 16 bit), packed-Bayer dataset frames, simulated mosaics."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from isp_viewer.core.errors import InputError
from isp_viewer.core.image import Image
from isp_viewer.io.checks import captured_stderr, check_input_file
from isp_viewer.io.raw import RawMosaic

IMAGE_SUFFIXES = {".png", ".tif", ".tiff", ".jpg", ".jpeg", ".bmp"}
OUTPUT_SUFFIXES = (".png", ".tif", ".tiff", ".jpg", ".jpeg", ".bmp")   # what write_image encodes
SIXTEEN_BIT_SUFFIXES = (".png", ".tif", ".tiff")                       # JPEG and BMP hold 8 bits
BAYER_PATTERNS = ("RGGB", "BGGR", "GRBG", "GBRG")
_LETTER_INDEX = {"R": 0, "G": 1, "B": 2}


def _decode(path: Path) -> np.ndarray:
    check_input_file(path)
    # np.fromfile + imdecode: works with non-ASCII paths, unlike cv2.imread on some platforms.
    buf = np.fromfile(str(path), dtype=np.uint8)
    messages: list[str] = []   # libpng/libtiff complain on stderr; that text goes into our one line
    with captured_stderr(messages):
        arr = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    if arr is None:
        detail = f" ({messages[-1]})" if messages else ""
        raise InputError(f"{path.name}: not a readable PNG/TIFF/JPEG/BMP image{detail}")
    return arr


def _to_unit_float(arr: np.ndarray, name: str) -> tuple[np.ndarray, int]:
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / np.float32(255), 8
    if arr.dtype == np.uint16:
        return arr.astype(np.float32) / np.float32(65535), 16
    if arr.dtype in (np.float32, np.float64):
        return arr.astype(np.float32), 32
    raise InputError(f"{name}: unsupported sample type {arr.dtype}")


def read_image(path: str | Path, label: str | None = None) -> Image:
    """An 8/16-bit (or float TIFF) image as display-referred sRGB in [0, 1]."""
    path = Path(path)
    arr = _decode(path)
    if arr.ndim == 3 and arr.shape[2] == 4:
        arr = arr[:, :, :3]
    if arr.ndim == 3:
        arr = cv2.cvtColor(arr, cv2.COLOR_BGR2RGB)
    data, bits = _to_unit_float(arr, path.name)
    return Image(data, linear=False, color_space="sRGB", label=label or path.name, source=str(path),
                 meta={"kind": "image", "bits": bits, "width": int(data.shape[1]), "height": int(data.shape[0])})


def write_image(path: str | Path, image: Image | np.ndarray, bits: int = 16, exposure: float = 0.0) -> Path:
    """Write RGB in [0,1] as 8- or 16-bit PNG/TIFF (linear images are sRGB-encoded first)."""
    path = Path(path)
    check_output_path(path, bits)
    if isinstance(image, Image):
        data = image.to_display(exposure) if bits == 8 else _encode16(image, exposure)
    else:
        x = np.clip(np.asarray(image, np.float32), 0, 1)
        data = (x * 255 + 0.5).astype(np.uint8) if bits == 8 else (x * 65535 + 0.5).astype(np.uint16)
    if data.ndim == 3 and data.shape[2] == 3:
        data = cv2.cvtColor(data, cv2.COLOR_RGB2BGR)
    ok, enc = cv2.imencode(path.suffix or ".png", data)
    if not ok:
        raise InputError(f"{path.name}: cannot encode an image with this extension")
    path.parent.mkdir(parents=True, exist_ok=True)
    enc.tofile(str(path))
    return path


def check_output_path(path: str | Path, bits: int = 8) -> None:
    """InputError (naming what is supported) unless write_image can write `path` at `bits`.

    Commands call this before decoding anything, so a typo in --out costs no minutes of work.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise InputError(f"{path.name}: cannot write {suffix or 'files without an extension'}; "
                         f"image outputs are {' '.join(OUTPUT_SUFFIXES)}")
    if bits == 16 and suffix not in SIXTEEN_BIT_SUFFIXES:
        raise InputError(f"{path.name}: {suffix} holds 8 bits; for 16-bit output use {' '.join(SIXTEEN_BIT_SUFFIXES)}")
    if path.is_dir():
        raise InputError(f"{path.name}: is a folder; name an image file to write")


def _encode16(image: Image, exposure: float) -> np.ndarray:
    from isp_viewer.core.image import linear_to_srgb

    x = image.rgb() * np.float32(2.0 ** exposure)
    if image.linear:
        x = linear_to_srgb(x)
    return (np.clip(x, 0, 1) * 65535 + 0.5).astype(np.uint16)


def cfa_indices(cfa: str) -> np.ndarray:
    """Colour index cell (R=0, G=1, B=2) of a 4- or 36-letter pattern."""
    n = 2 if len(cfa) == 4 else 6
    if len(cfa) not in (4, 36) or set(cfa) - set("RGB"):
        raise InputError(f"invalid CFA pattern {cfa!r}: use one of {', '.join(BAYER_PATTERNS)} "
                         "or a 36-letter X-Trans cell")
    return np.array([_LETTER_INDEX[c] for c in cfa], np.uint8).reshape(n, n)


def cfa_masks(cfa: str, height: int, width: int) -> np.ndarray:
    """HxWx3 boolean masks: True where the sensor samples that colour."""
    cell = cfa_indices(cfa)
    n = cell.shape[0]
    tiled = np.tile(cell, (-(-height // n), -(-width // n)))[:height, :width]
    return np.stack([tiled == c for c in range(3)], axis=-1)


def mosaic_from_rgb(rgb: np.ndarray, cfa: str) -> np.ndarray:
    """Sample HxWx3 through the CFA: HxW with each pixel's own colour value."""
    masks = cfa_masks(cfa, rgb.shape[0], rgb.shape[1])
    return (rgb * masks).sum(axis=2, dtype=np.float32)


def _bayer_raw_mosaic(values16: np.ndarray, cfa: str, path: str, white: int, meta: dict) -> RawMosaic:
    # LibRaw convention for cfa_indices: G in the second row is colour 3 (G2).
    idx = cfa_indices(cfa).astype(np.uint8)
    if len(cfa) == 4:
        idx = np.where((idx == 1) & (np.arange(2)[:, None] == 1), 3, idx).astype(np.uint8)
    return RawMosaic(path=path, mosaic=values16, cfa=cfa, cfa_indices=idx, black_levels=(0, 0, 0, 0),
                     white_level=white, wb_as_shot=(1.0, 1.0, 1.0, 1.0), color_matrix=np.eye(3, dtype=np.float32),
                     meta=meta)


def simulate_mosaic(reference: Image, cfa: str = "GRBG") -> RawMosaic:
    """Treat an RGB image as ground truth and sample it through a CFA (the Kodak/McMaster protocol).

    The mosaic keeps the reference's encoding (sRGB values, no white balance or colour matrix),
    as demosaicking papers do; `meta['encoding'] == 'srgb'` tells the pipeline not to develop it.
    """
    cfa = cfa.upper()
    rgb = np.clip(reference.rgb(), 0, 1)
    h, w = rgb.shape[:2]
    cell = 2 if len(cfa) == 4 else 6
    if h < cell or w < cell:
        raise InputError(f"{reference.label or 'the image'} is {w}x{h}; simulating a {cfa if cell == 2 else 'X-Trans'} "
                         f"mosaic needs at least {cell}x{cell} pixels")
    if len(cfa) == 4:
        h, w = h - h % 2, w - w % 2
    rgb = rgb[:h, :w]
    values = np.round(mosaic_from_rgb(rgb, cfa) * 65535).astype(np.uint16)
    meta = {"raw_type": "simulated", "encoding": "srgb", "simulated_from": reference.source or reference.label,
            "simulated_cfa": cfa}
    return _bayer_raw_mosaic(values, cfa, reference.source or reference.label, 65535, meta)


def bayer_mosaic(values: np.ndarray, cfa: str, path: str, bits: int, black: int, meta: dict) -> RawMosaic:
    """A dataset's Bayer frame (codes already checked to fit `bits`) as a RawMosaic, after the
    plausibility check every input gets."""
    from isp_viewer.io.checks import check_plausible

    if cfa not in BAYER_PATTERNS:
        raise InputError(f"packed Bayer data needs one of {', '.join(BAYER_PATTERNS)}, not {cfa!r}")
    h, w = values.shape[:2]
    if h < 2 or w < 2:
        raise InputError(f"{Path(path).name} is {w}x{h}; a Bayer frame needs at least 2x2 pixels")
    white = (1 << bits) - 1
    if not 0 <= black < white:
        raise InputError(f"black level {black} must lie below the {bits}-bit white level {white}")
    check_plausible(values, black, white, Path(path).name)
    mosaic = _bayer_raw_mosaic(values.astype(np.uint16), cfa, path, white, meta)
    if black:
        object.__setattr__(mosaic, "black_levels", (black,) * 4)
    return mosaic


def read_bayer_png(path: str | Path, cfa: str = "RGGB", bits: int = 10, black: int = 0) -> RawMosaic:
    """A single-channel Bayer frame from a dataset (e.g. Zurich RAW-to-RGB: RGGB, 10-bit in 16-bit PNG)."""
    path = Path(path)
    arr = _decode(path)
    if arr.ndim != 2:
        raise InputError(f"{path.name}: a packed-Bayer frame must have one channel, this image has {arr.shape[2]}")
    if not 1 <= bits <= 16:
        raise InputError(f"bit depth must be between 1 and 16, not {bits}")
    white = (1 << bits) - 1
    if int(arr.max()) > white:
        raise InputError(f"{path.name}: values up to {int(arr.max())} exceed the stated {bits}-bit range")
    return bayer_mosaic(arr, cfa.upper(), str(path), bits, black, {"raw_type": "packed-bayer-png", "bits": bits})
