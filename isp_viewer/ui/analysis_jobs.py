"""Worker-side analysis for the window: error/FFT displays, metrics rows, radial spectra (no widgets).

Everything here runs off the GUI thread and returns plain arrays and tuples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from isp_viewer.analysis import error_map, fft_view, radial_power_spectrum, shared_range
from isp_viewer.core.errors import IspViewerError
from isp_viewer.core.image import Image
from isp_viewer.core.region import Region
from isp_viewer.metrics import align_to_reference, psnr_ssim
from isp_viewer.metrics.convention import Convention

ERROR_KINDS = ("absolute", "signed", "squared", "relative", "ssim", "flip")
MODES = ("image",) + tuple(f"error:{k}" for k in ERROR_KINDS) + ("fft:amplitude", "fft:phase")


def lut(name: str) -> np.ndarray:
    """256x3 uint8 colour table from matplotlib (diverging maps for signed data)."""
    import matplotlib

    return (matplotlib.colormaps[name](np.linspace(0, 1, 256))[:, :3] * 255 + 0.5).astype(np.uint8)


def colorize(values: np.ndarray, lo: float, hi: float, cmap: str) -> np.ndarray:
    scaled = (np.clip((values - lo) / max(hi - lo, 1e-12), 0, 1) * 255).astype(np.uint8)
    return np.ascontiguousarray(lut(cmap)[scaled])


@dataclass(frozen=True)
class PaneDisplay:
    display: np.ndarray     # uint8 HxWx3 to show
    caption: str            # e.g. "absolute error, 0 – 0.082 (shared)"


def _aligned(image: Image, reference: Image):
    return align_to_reference(image.rgb(), reference.rgb())


def analysis_displays(mode: str, reference: Image, images: dict[int, Image]) -> dict[int, PaneDisplay]:
    """Displays for every pane under an error-map or spectrum mode, with one range shared by all."""
    if mode.startswith("error:"):
        return _error_displays(mode.split(":", 1)[1], reference, images)
    if mode.startswith("fft:"):
        return _fft_displays(mode.split(":", 1)[1], images)
    raise ValueError(f"unknown analysis mode {mode!r}")


def _error_displays(kind: str, reference: Image, images: dict[int, Image]) -> dict[int, PaneDisplay]:
    maps, notes, failed = {}, {}, {}
    for item_id, image in images.items():
        try:
            al = _aligned(image, reference)
            maps[item_id] = error_map(al.image, al.reference, kind)
            notes[item_id] = al.note
        except IspViewerError as err:
            failed[item_id] = str(err)
    out: dict[int, PaneDisplay] = {}
    if maps:
        lo, hi = shared_range(list(maps.values()))
        diverging = next(iter(maps.values())).diverging
        cmap = "RdBu_r" if diverging else ("viridis" if kind == "ssim" else "inferno")
        for item_id, emap in maps.items():
            note = f" · {notes[item_id]}" if notes[item_id] else ""
            out[item_id] = PaneDisplay(colorize(emap.data, lo, hi, cmap),
                                       f"{kind} error vs reference, {cmap} {lo:.3g} – {hi:.3g} (shared){note}")
    for item_id, reason in failed.items():
        out[item_id] = PaneDisplay(np.zeros((8, 8, 3), np.uint8), f"cannot compare: {reason}")
    return out


def _fft_displays(part: str, images: dict[int, Image]) -> dict[int, PaneDisplay]:
    spectra = {i: fft_view(img.rgb(), "luminance", with_phase=part == "phase") for i, img in images.items()}
    out = {}
    if part == "amplitude":
        lo = min(s.suggested_range[0] for s in spectra.values())
        hi = max(s.suggested_range[1] for s in spectra.values())
        for i, s in spectra.items():
            out[i] = PaneDisplay(colorize(s.log_amplitude, lo, hi, "magma"),
                                 f"log10 amplitude (Hann), {lo:.2f} – {hi:.2f} (shared)")
    else:
        for i, s in spectra.items():
            out[i] = PaneDisplay(colorize(s.phase, -np.pi, np.pi, "twilight"), "phase (Hann), −π – π")
    return out


@dataclass(frozen=True)
class MetricRow:
    item_id: int
    label: str
    psnr: float | None
    ssim: float | None
    note: str


def metric_rows(reference_id: int, images: dict[int, Image], labels: dict[int, str], conv: Convention,
                region: Region | None = None) -> list[MetricRow]:
    """PSNR/SSIM of every image against the reference (optionally inside `region`)."""
    reference = images[reference_id]
    rows = []
    for item_id, image in images.items():
        if item_id == reference_id:
            continue
        try:
            al = _aligned(image, reference)
            value = psnr_ssim(al.image, al.reference, conv, region=al.local(region))
            rows.append(MetricRow(item_id, labels[item_id], value.psnr, value.ssim, al.note))
        except IspViewerError as err:
            rows.append(MetricRow(item_id, labels[item_id], None, None, str(err)))
    return rows


def radial_spectra(images: dict[int, Image], labels: dict[int, str], region: Region | None = None
                   ) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(label, frequency, power) per image; ROI given on the reference grid of each image."""
    out = []
    for item_id, image in images.items():
        try:
            freq, power = radial_power_spectrum(image.rgb(), "luminance", region=region)
            out.append((labels[item_id], freq, power))
        except IspViewerError:
            continue
    return out
