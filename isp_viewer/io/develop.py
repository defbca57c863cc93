"""From a RawMosaic to what a network eats, and from camera RGB back to a displayable Image.

Mosaic side: black-subtracted, white-normalised and white-balanced (gains per CFA colour, clipped
at 1 like LibRaw's highlight clipping), so demosaicking networks see neutral greys as neutral.
Output side: LibRaw's camera matrix (rgb_cam) to linear sRGB, then the sRGB curve.
Simulated mosaics (made from sRGB references) are already display-referred and skip both steps.
"""

from __future__ import annotations

import warnings

import numpy as np

from isp_viewer.core.errors import InputError
from isp_viewer.core.image import Image, linear_to_srgb
from isp_viewer.io.raw import RawMosaic

CLASSICAL_ALGORITHMS = ("bilinear", "malvar", "menon")


def is_display_referred(raw: RawMosaic) -> bool:
    return raw.meta.get("encoding") == "srgb"


def network_input(raw: RawMosaic, wb: str = "camera") -> np.ndarray:
    """HxW float32 in [0, 1] for RAW-domain networks (white-balanced unless display-referred)."""
    x = raw.normalized()
    if is_display_referred(raw) or wb == "none":
        return x
    gains = raw.white_balance_gains(wb)
    letters = np.array(list(raw.cfa)).reshape(raw.cfa_indices.shape)
    n = len(letters)
    for (r, c), letter in np.ndenumerate(letters):
        x[r::n, c::n] *= gains["RGB".index(letter)]
    return np.clip(x, 0.0, 1.0, out=x)


def develop(rgb_cam: np.ndarray, raw: RawMosaic, output: str = "srgb", label: str = "",
            meta: dict | None = None) -> Image:
    """White-balanced camera RGB (HxWx3, [0,1]) to an Image in linear sRGB or sRGB."""
    meta = dict(meta or {})
    if is_display_referred(raw):
        return Image(np.clip(rgb_cam, 0, 1), linear=False, label=label, source=raw.path, meta=meta)
    m = raw.color_matrix.astype(np.float32)
    lin = np.clip(rgb_cam.reshape(-1, 3) @ m.T, 0, 1).reshape(rgb_cam.shape).astype(np.float32)
    if output == "linear":
        return Image(lin, linear=True, color_space="linear sRGB", label=label, source=raw.path, meta=meta)
    return Image(linear_to_srgb(lin), linear=False, label=label, source=raw.path, meta=meta)


def colour_demosaicing():
    """The colour-demosaicing module (its import touches a deprecated scipy namespace)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import colour_demosaicing as cd
    return cd


def classical_demosaic(raw: RawMosaic, algorithm: str = "malvar", wb: str = "camera", output: str = "srgb") -> Image:
    """Bilinear, Malvar-He-Cutler (2004) or Menon (2007) demosaicking via colour-demosaicing."""
    cd = colour_demosaicing()
    if raw.is_xtrans:
        raise InputError("classical demosaicking here supports 2x2 Bayer patterns only (this is X-Trans)")
    functions = {
        "bilinear": cd.demosaicing_CFA_Bayer_bilinear,
        "malvar": cd.demosaicing_CFA_Bayer_Malvar2004,
        "menon": cd.demosaicing_CFA_Bayer_Menon2007,
    }
    if algorithm not in functions:
        raise InputError(f"unknown classical demosaic {algorithm!r}; choose one of {', '.join(CLASSICAL_ALGORITHMS)}")
    x = network_input(raw, wb)
    rgb = np.clip(np.asarray(functions[algorithm](x, raw.cfa), dtype=np.float32), 0, 1)
    names = {"bilinear": "Bilinear", "malvar": "Malvar-He-Cutler", "menon": "Menon 2007"}
    return develop(rgb, raw, output, label=names[algorithm], meta={"method": "classical", "algorithm": algorithm})
