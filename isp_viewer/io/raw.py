"""Camera RAW decoding with rawpy/LibRaw.

`open_raw(path)` returns a `RawMosaic` (the sensor's visible mosaic with the facts needed to
interpret it) or, for files that are already demosaiced (LinearRaw DNG, 3-channel scans), a linear
RGB `Image`. LibRaw's own renderings are the baselines every network is compared with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import rawpy

from isp_viewer.core.errors import InputError
from isp_viewer.core.image import Image
from isp_viewer.core.methods import DEMOSAIC_ALGORITHMS, LibRawOptions  # noqa: F401 (re-exported)
from isp_viewer.io.checks import (
    bits_used,
    captured_stderr,
    check_holds_pixels,
    check_input_file,
    check_plausible,
    fit_white_level,
)
from isp_viewer.io.libraw_meta import camera_make_model

RAW_SUFFIXES = {
    ".dng", ".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".srf", ".sr2", ".raf", ".orf", ".rw2",
    ".pef", ".srw", ".kdc", ".dcr", ".mrw", ".3fr", ".fff", ".iiq", ".mos", ".erf", ".x3f", ".rwl",
    ".raw", ".gpr", ".mef", ".bay", ".cap",
}
_COLOR_LETTERS = "RGBG"  # LibRaw colour indices 0..3 (3 = second green)


@dataclass(frozen=True, eq=False)
class RawMosaic:
    """The visible sensor mosaic and how to read it.

    mosaic: HxW uint16 as stored (black level not subtracted). cfa: row-major colour letters of
    the repeating cell: 4 letters for 2x2 Bayer ("RGGB"), 36 for the 6x6 X-Trans cell.
    black_levels: per LibRaw colour index (R, G, B, G2). wb_as_shot: multipliers (R, G, B, G2),
    normalised so green is 1. color_matrix: 3x3 camera RGB -> linear sRGB (LibRaw's rgb_cam).
    """

    path: str
    mosaic: np.ndarray
    cfa: str
    cfa_indices: np.ndarray
    black_levels: tuple[int, int, int, int]
    white_level: int
    wb_as_shot: tuple[float, float, float, float]
    color_matrix: np.ndarray
    make: str = ""
    model: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def height(self) -> int:
        return int(self.mosaic.shape[0])

    @property
    def width(self) -> int:
        return int(self.mosaic.shape[1])

    @property
    def is_xtrans(self) -> bool:
        return len(self.cfa) == 36

    @property
    def camera(self) -> str:
        return " ".join(p for p in (self.make, self.model) if p)

    def black_map(self) -> np.ndarray:
        """Per-pixel black level following the CFA (float32 HxW)."""
        cell = np.asarray(self.black_levels, np.float32)[self.cfa_indices]
        n = cell.shape[0]
        reps = (-(-self.height // n), -(-self.width // n))
        return np.tile(cell, reps)[: self.height, : self.width]

    def normalized(self) -> np.ndarray:
        """HxW float32 linear mosaic in [0, 1]: (value - black) / (white - black)."""
        black = self.black_map()
        scale = np.float32(1.0) / np.maximum(np.float32(self.white_level) - black, 1.0)
        out = (self.mosaic.astype(np.float32) - black) * scale
        return np.clip(out, 0.0, 1.0, out=out)

    def white_balance_gains(self, mode: str = "camera") -> np.ndarray:
        """(R, G, B) gains: 'camera' = as shot, 'none' = ones, 'auto' = grey world on the mosaic."""
        if mode == "none":
            return np.ones(3, np.float32)
        if mode == "auto":
            norm = self.normalized()
            letters = np.array(list(self.cfa)).reshape(self.cfa_indices.shape)
            n = len(letters)
            means = []
            for c in "RGB":
                ys, xs = np.nonzero(letters == c)
                vals = np.concatenate([norm[y::n, x::n].ravel() for y, x in zip(ys, xs)])
                means.append(max(float(vals.mean()), 1e-6))
            return (np.float32(means[1]) / np.asarray(means, np.float32)).astype(np.float32)
        r, g, b, _ = self.wb_as_shot
        return np.asarray([r / g, 1.0, b / g], np.float32)

    def facts(self) -> dict[str, Any]:
        """JSON-ready description (for `isp-viewer info` and sidecars)."""
        return {
            "path": self.path,
            "kind": "mosaic",
            "format": Path(self.path).suffix.lstrip(".").upper(),
            "camera": self.camera,
            "make": self.make,
            "model": self.model,
            "cfa": self.cfa if not self.is_xtrans else "X-Trans",
            "cfa_cell": self.cfa,
            "black_levels": list(self.black_levels),
            "white_level": self.white_level,
            "wb_as_shot": [round(v, 6) for v in self.wb_as_shot],
            "width": self.width,
            "height": self.height,
            "megapixels": round(self.width * self.height / 1e6, 2),
            **self.meta,
        }


def _reason(exc: Exception) -> str:
    """A readable reason for a LibRaw failure."""
    kinds = {
        "LibRawFileUnsupportedError": "unsupported file format or not a camera RAW file",
        "LibRawIOError": "cannot read the image data (file truncated, damaged or metadata only)",
        "LibRawDataError": "corrupt or unsupported image data",
        "LibRawTooBigError": "invalid image dimensions in the file header",
        "LibRawOutOfOrderCallError": "LibRaw could not process this file",
        "LibRawNoThumbnailError": "no embedded preview",
    }
    return kinds.get(type(exc).__name__, f"LibRaw error: {exc}")


def _open(path: Path) -> rawpy.RawPy:
    check_input_file(path)
    messages: list[str] = []
    try:
        with captured_stderr(messages):
            raw = rawpy.imread(str(path))
            _ = raw.raw_image_visible  # forces unpack, so truncated data fails here
    except (rawpy.LibRawError, OSError) as exc:
        detail = f" ({messages[0]})" if messages else ""
        raise InputError(f"{path.name}: {_reason(exc)}{detail}") from None
    try:
        check_holds_pixels(path.stat().st_size, raw.sizes.raw_width, raw.sizes.raw_height, path.name)
    except InputError:
        raw.close()
        raise
    return raw


def _cfa_string(indices: np.ndarray) -> str:
    return "".join(_COLOR_LETTERS[int(i)] for i in indices.ravel())


def open_raw(path: str | Path) -> RawMosaic | Image:
    """Decode a RAW file: a RawMosaic for CFA sensors, a linear RGB Image for demosaiced files."""
    path = Path(path)
    with _open(path) as raw:
        try:
            raw_type = raw.raw_type
            pattern = raw.raw_pattern
            make, model = camera_make_model(path)
            if raw_type != rawpy.RawType.Flat or pattern is None:
                return _open_linear(raw, path, make, model)
            white, _ = checked_white_level(raw, path.name)
            mosaic = np.array(raw.raw_image_visible, dtype=np.uint16, copy=True)
            black = tuple(int(v) for v in raw.black_level_per_channel)
            wb = [float(v) for v in raw.camera_whitebalance]
            if wb[3] == 0:
                wb[3] = wb[1]
            g = wb[1] if wb[1] > 0 else 1.0
            wb_t = tuple(v / g if v > 0 else 1.0 for v in wb)
            matrix = np.array(raw.color_matrix, np.float32)[:, :3]
            if not np.any(matrix):
                matrix = np.eye(3, dtype=np.float32)
            indices = np.array(pattern, np.uint8)
            return RawMosaic(
                path=str(path), mosaic=mosaic, cfa=_cfa_string(indices), cfa_indices=indices,
                black_levels=black, white_level=white, wb_as_shot=wb_t,  # type: ignore[arg-type]
                color_matrix=matrix, make=make, model=model,
                meta={"raw_type": "Flat", "raw_size": [raw.sizes.raw_width, raw.sizes.raw_height],
                      "bits_used": bits_used(int(mosaic.max()))},
            )
        except rawpy.LibRawError as exc:
            raise InputError(f"{path.name}: {_reason(exc)}") from None


def checked_white_level(raw: rawpy.RawPy, name: str) -> tuple[int, str | None]:
    """The plausibility check of decoded values that open, render and preview all apply.

    Returns (white level to use, warning or None). A mosaic keeps its stated white level (values
    above it mean a broken file); already-demosaiced planes whose stated level is below the data
    (film scanners that say 255 for 16-bit values) get the level their bits imply, with a warning.
    """
    values = raw.raw_image_visible
    black = min(int(v) for v in raw.black_level_per_channel)
    white, warning = int(raw.white_level), None
    if values.ndim == 3:   # LibRaw keeps 4 planes; only num_colors of them hold data
        values = values[..., : max(1, min(int(raw.num_colors), values.shape[2]))]
        white, warning = fit_white_level(values, white)
    check_plausible(values, black, white, name)
    return white, warning


def _open_linear(raw: rawpy.RawPy, path: Path, make: str, model: str) -> Image:
    """Already-demosaiced data (LinearRaw DNG, film-scanner NEF, Foveon-like stacks) as linear sRGB."""
    white, warning = checked_white_level(raw, path.name)
    rgb = raw.postprocess(gamma=(1, 1), no_auto_bright=True, output_bps=16, use_camera_wb=True,
                          user_flip=0, output_color=rawpy.ColorSpace.sRGB, **_saturation(white, warning))
    data = rgb.astype(np.float32) / np.float32(65535.0)
    facts: dict[str, Any] = {"path": str(path), "kind": "linear", "format": path.suffix.lstrip(".").upper(),
             "camera": " ".join(p for p in (make, model) if p), "make": make, "model": model,
             "cfa": None, "black_levels": [int(v) for v in raw.black_level_per_channel],
             "white_level": white, "width": int(data.shape[1]), "height": int(data.shape[0]),
             "raw_type": "Stack"}
    if warning:
        facts.update(white_level_stated=int(raw.white_level), warnings=[warning])
    return Image(data, linear=True, color_space="linear sRGB", label=path.name, source=str(path), meta=facts)


def _saturation(white: int, warning: str | None) -> dict[str, Any]:
    """postprocess() keyword that overrides LibRaw's white level when we fitted our own."""
    return {"user_sat": white} if warning else {}


def quick_preview(path: str | Path, max_side: int = 2048) -> np.ndarray:
    """Fast uint8 RGB for first pixels on screen: the embedded JPEG if present, else a half-size decode."""
    import cv2

    path = Path(path)
    with _open(path) as raw:
        white, warning = checked_white_level(raw, path.name)   # no preview of a file that will not open
        try:
            thumb = raw.extract_thumb()
            if thumb.format == rawpy.ThumbFormat.JPEG:
                arr = cv2.imdecode(np.frombuffer(thumb.data, np.uint8), cv2.IMREAD_COLOR)
                if arr is not None and max(arr.shape[:2]) >= 256:
                    return cv2.cvtColor(arr, cv2.COLOR_BGR2RGB)
            elif thumb.format == rawpy.ThumbFormat.BITMAP:
                bitmap = np.asarray(thumb.data)   # a BITMAP thumbnail is an HxWx3 array
                if max(bitmap.shape[:2]) >= 256:
                    return bitmap
        except (rawpy.LibRawError, ValueError):
            pass  # no usable preview: decode at half size instead
        try:
            return raw.postprocess(half_size=True, use_camera_wb=True, user_flip=0, output_bps=8,
                                   **_saturation(white, warning))
        except rawpy.LibRawError as exc:
            raise InputError(f"{path.name}: {_reason(exc)}") from None


def postprocess_kwargs(options: LibRawOptions) -> dict[str, Any]:
    """rawpy.postprocess arguments for a LibRaw rendering (core.methods.LibRawOptions)."""
    algo = getattr(rawpy.DemosaicAlgorithm, options.demosaic)
    kw: dict[str, Any] = dict(
        demosaic_algorithm=algo, use_camera_wb=options.wb == "camera", use_auto_wb=options.wb == "auto",
        output_bps=options.bits, user_flip=0, no_auto_bright=True, output_color=rawpy.ColorSpace.sRGB,
        half_size=options.half_size,
    )
    if options.wb == "none":
        kw["user_wb"] = [1.0, 1.0, 1.0, 1.0]
    # sRGB curve (slope 12.92, power 2.4) so baselines match the app's own sRGB encoding.
    kw["gamma"] = (1, 1) if options.output == "linear" else (2.4, 12.92)
    return kw


def render_libraw(path: str | Path, options: LibRawOptions = LibRawOptions()) -> Image:  # noqa: B008 (frozen)
    """LibRaw's full pipeline (demosaic, white balance, colour matrix, curve) as an Image."""
    path = Path(path)
    with _open(path) as raw:
        white, warning = checked_white_level(raw, path.name)
        try:
            rgb = raw.postprocess(**postprocess_kwargs(options), **_saturation(white, warning))
        except rawpy.LibRawError as exc:
            raise InputError(f"{path.name}: {_reason(exc)}") from None
    data = rgb.astype(np.float32) / np.float32(255.0 if options.bits == 8 else 65535.0)
    meta: dict[str, Any] = {"method": "libraw", **_asdict(options)}
    if warning:
        meta["warnings"] = [warning]
    linear = options.output == "linear"
    return Image(data, linear=linear, color_space="linear sRGB" if linear else "sRGB",
                 label=options.label, source=str(path), meta=meta)


def _asdict(options: LibRawOptions) -> dict[str, Any]:
    return {"demosaic": options.demosaic.upper(), "wb": options.wb, "output": options.output, "bits": options.bits}
