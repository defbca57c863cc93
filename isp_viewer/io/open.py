"""Open any supported file by what it is: camera RAW, image, or packed-Bayer dataset frame."""

from __future__ import annotations

from pathlib import Path

from isp_viewer.core.errors import InputError
from isp_viewer.core.image import Image
from isp_viewer.io.arrays import ARRAY_SUFFIXES, read_bayer_array
from isp_viewer.io.checks import check_input_file
from isp_viewer.io.images import IMAGE_SUFFIXES, read_bayer_png, read_image, simulate_mosaic
from isp_viewer.io.raw import RAW_SUFFIXES, RawMosaic, open_raw

Opened = RawMosaic | Image
# What open_any reads, by kind (for file dialogs' filters and messages); lower case, with the dot.
SUPPORTED_SUFFIXES: dict[str, tuple[str, ...]] = {
    "camera RAW": tuple(sorted(RAW_SUFFIXES)),
    "image": tuple(sorted(IMAGE_SUFFIXES)),
    "Bayer array": tuple(sorted(ARRAY_SUFFIXES)),
}
ALL_SUFFIXES: tuple[str, ...] = tuple(s for group in SUPPORTED_SUFFIXES.values() for s in group)
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
    packed-Bayer mosaic when `bayer_cfa` says the single-channel frame is one; .npy/.npz →
    Bayer mosaic (needs `bayer_cfa`)."""
    path = Path(path)
    suffix = path.suffix.lower()
    check_input_file(path)   # the same message for a missing file or a folder, whatever its name says
    if suffix in ARRAY_SUFFIXES:
        return read_bayer_array(path, bayer_cfa, bayer_bits)
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
    raise InputError(f"{path.name}: unsupported file type {suffix or '(no extension)'}; open a camera RAW, "
                     "a PNG/TIFF/JPEG/BMP image or a .npy/.npz Bayer array")
