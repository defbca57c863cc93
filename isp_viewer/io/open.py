"""Open any supported file by what it is: camera RAW, image, or packed-Bayer dataset frame."""

from __future__ import annotations

from pathlib import Path
from typing import Union

from isp_viewer.core.errors import InputError
from isp_viewer.core.image import Image
from isp_viewer.io.images import IMAGE_SUFFIXES, read_bayer_png, read_image, simulate_mosaic
from isp_viewer.io.raw import RAW_SUFFIXES, RawMosaic, open_raw

Opened = Union[RawMosaic, Image]
_MAGIC = {b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"BM": "a BMP image"}


def sniff(path: Path) -> str | None:
    """What the first bytes say the file is, when it is a common image format."""
    try:
        with path.open("rb") as f:
            head = f.read(8)
    except OSError:
        return None
    return next((what for magic, what in _MAGIC.items() if head.startswith(magic)), None)


def open_any(path: str | Path, *, simulate_cfa: str | None = None, bayer_cfa: str | None = None,
             bayer_bits: int = 10) -> Opened:
    """RAW → RawMosaic (or linear Image); image → Image, or a simulated mosaic of it, or a
    packed-Bayer mosaic when `bayer_cfa` says the single-channel frame is one."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in RAW_SUFFIXES:
        try:
            return open_raw(path)
        except InputError as err:
            actual = sniff(path)
            if actual:
                raise InputError(f"{err} — the file is actually {actual}; rename it to open it as an image") from None
            raise
    if suffix in IMAGE_SUFFIXES:
        if bayer_cfa:
            return read_bayer_png(path, bayer_cfa, bayer_bits)
        image = read_image(path)
        return simulate_mosaic(image, simulate_cfa) if simulate_cfa else image
    if not path.exists():
        raise InputError(f"{path.name}: file not found")
    raise InputError(f"{path.name}: unsupported file type {suffix or '(no extension)'}; open a camera RAW or a PNG/TIFF/JPEG/BMP image")
