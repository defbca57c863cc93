"""Worker-side analysis for the window: error/FFT displays, metrics rows, radial spectra (no widgets).

Everything here runs off the GUI thread and returns plain arrays and tuples.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from isp_viewer.analysis import error_map, fft_view, radial_power_spectrum, shared_range
from isp_viewer.core.errors import IspViewerError
from isp_viewer.core.image import Image
from isp_viewer.core.methods import is_ground_truth
from isp_viewer.core.region import Region
from isp_viewer.metrics import align_to_reference, psnr_ssim
from isp_viewer.metrics.convention import Convention
from isp_viewer.ui import metric_columns
from isp_viewer.ui.metric_columns import DEFAULT as DEFAULT_COLUMNS

ERROR_KINDS = ("absolute", "signed", "squared", "relative", "ssim", "flip")
COLOUR_ERROR_KINDS = ("de2000", "zipper", "false-colour")   # analysis.colour_maps, after the spectra (Alt+ keys stay)
MODES = (("image",) + tuple(f"error:{k}" for k in ERROR_KINDS) + ("fft:amplitude", "fft:phase")
         + tuple(f"error:{k}" for k in COLOUR_ERROR_KINDS))


@functools.lru_cache(maxsize=16)
def lut(name: str) -> np.ndarray:
    """256x3 uint8 colour table from matplotlib (diverging maps for signed data); built once per
    map (read-only: the panes and the colour bar share it)."""
    import matplotlib

    table = (matplotlib.colormaps[name](np.linspace(0, 1, 256))[:, :3] * 255 + 0.5).astype(np.uint8)
    table.flags.writeable = False
    return table


def colorize(values: np.ndarray, lo: float, hi: float, cmap: str) -> np.ndarray:
    scaled = (np.clip((values - lo) / max(hi - lo, 1e-12), 0, 1) * 255).astype(np.uint8)
    return np.ascontiguousarray(lut(cmap)[scaled])


@dataclass(frozen=True, eq=False)
class PaneDisplay:
    """What one pane shows in an analysis mode, and the numbers behind its colours.

    values: HxW float32 the colours were mapped from (None for the reference pane); they cover
    `grid`, a region of the reference pixel grid (an FFT covers the whole pane).
    lo, hi: the colour scale's ends, shared by every pane of the mode; max_value: the largest
    value over all panes (the scale may clip above `hi`, see `range_note`).
    """

    display: np.ndarray     # uint8 HxWx3 to show
    caption: str            # e.g. "absolute error, 0 – 0.082 (shared)"
    values: np.ndarray | None = None
    grid: Region | None = None
    lo: float = 0.0
    hi: float = 1.0
    cmap: str = ""
    quantity: str = ""
    max_value: float | None = None
    range_note: str = ""
    is_reference: bool = False

    def value_at(self, x: float, y: float, ref_size: tuple[int, int]) -> float | None:
        """The value shown at reference-grid pixel (x, y), or None outside / for the reference."""
        if self.values is None:
            return None
        grid = self.grid or Region(0, 0, *ref_size)
        vh, vw = self.values.shape[:2]
        ix = int(np.floor((x - grid.x) * vw / max(grid.w, 1)))
        iy = int(np.floor((y - grid.y) * vh / max(grid.h, 1)))
        if 0 <= ix < vw and 0 <= iy < vh:
            return float(self.values[iy, ix])
        return None


def _aligned(image: Image, reference: Image):
    return align_to_reference(image.rgb(), reference.rgb())


def analysis_displays(mode: str, reference: Image, images: dict[int, Image]) -> dict[int, PaneDisplay]:
    """Displays for every pane under an error-map or spectrum mode, with one range shared by all.

    Under an error mode the reference's own pane shows the reference (its error would be zero).
    """
    if mode.startswith("error:"):
        return _error_displays(mode.split(":", 1)[1], reference, images)
    if mode.startswith("fft:"):
        return _fft_displays(mode.split(":", 1)[1], images)
    raise ValueError(f"unknown analysis mode {mode!r}")


ERROR_QUANTITIES = {"absolute": "absolute error", "signed": "signed error", "squared": "squared error",
                    "relative": "relative error", "ssim": "SSIM", "flip": "FLIP error",
                    "de2000": "CIEDE2000 dE00", "zipper": "zipper phi (dE*ab)", "false-colour": "false colour (a*b*)"}


def _error_displays(kind: str, reference: Image, images: dict[int, Image]) -> dict[int, PaneDisplay]:
    from isp_viewer.analysis.colour_maps import colour_map
    from isp_viewer.analysis.error_maps import DEFAULT_PERCENTILE

    maps, regions, notes, failed = {}, {}, {}, {}
    ref_ids = [i for i, img in images.items() if img is reference]
    for item_id, image in images.items():
        if item_id in ref_ids:
            continue
        try:
            al = _aligned(image, reference)
            maps[item_id] = (colour_map(al.image, al.reference, kind) if kind in COLOUR_ERROR_KINDS
                             else error_map(al.image, al.reference, kind))
            regions[item_id], notes[item_id] = al.region, al.note
        except IspViewerError as err:
            failed[item_id] = str(err)
    out: dict[int, PaneDisplay] = {}
    quantity = ERROR_QUANTITIES.get(kind, f"{kind} error")
    lo = hi = 0.0
    cmap = ""
    if maps:
        ranged = colour_range if kind in COLOUR_ERROR_KINDS else lambda _k, m: shared_range(m)
        lo, hi = ranged(kind, list(maps.values()))
        diverging = next(iter(maps.values())).diverging
        cmap = "RdBu_r" if diverging else ("viridis" if kind == "ssim" else "inferno")
        data = [m.data for m in maps.values()]
        top = max(float(np.max(np.abs(d) if kind == "signed" else d)) for d in data)
        bottom = min(float(np.min(d)) for d in data)
        if kind in ("ssim", "flip", "zipper"):
            note = f"fixed range {lo:g} – {hi:g}" + (", the middle is the zipper threshold" if kind == "zipper" else "")
        elif kind in COLOUR_ERROR_KINDS:
            note = f"{DEFAULT_PERCENTILE:g}th percentile of all panes, at least 1; values above show as the top colour"
        else:
            note = f"{DEFAULT_PERCENTILE:g}th percentile of all panes; values above show as the top colour"
        for item_id, emap in maps.items():
            extra = f" · {notes[item_id]}" if notes[item_id] else ""
            out[item_id] = PaneDisplay(colorize(emap.data, lo, hi, cmap),
                                       f"{quantity} vs reference, {cmap} {lo:.3g} – {hi:.3g} (shared){extra}",
                                       emap.data, regions[item_id], lo, hi, cmap, quantity,
                                       top if kind != "ssim" else bottom, note)
    for item_id in ref_ids:
        out[item_id] = PaneDisplay(reference.to_display(), "the reference: errors are measured against it",
                                   None, None, lo, hi, cmap, quantity, None, "", True)
    for item_id, reason in failed.items():
        out[item_id] = PaneDisplay(np.zeros((8, 8, 3), np.uint8), f"cannot compare: {reason}")
    return out


def colour_range(kind: str, maps: list) -> tuple[float, float]:
    """Shared scale of colour maps: zipper's fixed one; dE2000 and false colour the percentile of all
    panes, at least 1 (one CIELAB unit is about a just-noticeable difference)."""
    from isp_viewer.analysis.error_maps import range_for

    if kind == "zipper":
        return maps[0].suggested_range
    lo, hi = range_for(kind, [m.data for m in maps])
    return lo, max(hi, 1.0)


def _fft_displays(part: str, images: dict[int, Image]) -> dict[int, PaneDisplay]:
    spectra = {i: fft_view(img.rgb(), "luminance", with_phase=part == "phase") for i, img in images.items()}
    out = {}
    if part == "amplitude":
        lo = min(s.suggested_range[0] for s in spectra.values())
        hi = max(s.suggested_range[1] for s in spectra.values())
        top = max(float(np.max(s.log_amplitude)) for s in spectra.values())
        for i, s in spectra.items():
            out[i] = PaneDisplay(colorize(s.log_amplitude, lo, hi, "magma"),
                                 f"log10 amplitude (Hann), {lo:.2f} – {hi:.2f} (shared)",
                                 s.log_amplitude, None, lo, hi, "magma", "log10 amplitude", top,
                                 "1st–99th percentile of all panes")
    else:
        for i, s in spectra.items():
            out[i] = PaneDisplay(colorize(s.phase, -np.pi, np.pi, "twilight"), "phase (Hann), −π – π",
                                 s.phase, None, -np.pi, np.pi, "twilight", "phase (rad)", float(np.pi),
                                 "the full circle")
    return out


@dataclass(frozen=True)
class MetricRow:
    item_id: int
    label: str
    psnr: float | None
    ssim: float | None
    note: str
    values: dict[str, float | None] = field(default_factory=dict)   # the other chosen metrics (metric_columns)


GROUND_TRUTH, CHOSEN, AUTOMATIC = "ground truth", "chosen", "automatic"
NO_GROUND_TRUTH = ("no ground truth: one method against another is not quality "
                   "(press R on a pane to measure against it anyway)")


def reference_role(method, chosen: bool) -> str:
    """What the reference is: a ground truth (the demo's, a dataset's, a simulation's source),
    a pane the user made the reference (R), or merely the first pane that was ready."""
    if is_ground_truth(method):
        return GROUND_TRUTH
    return CHOSEN if chosen else AUTOMATIC


def metric_rows(reference_id: int, images: dict[int, Image], labels: dict[int, str], conv: Convention,
                region: Region | None = None, role: str = GROUND_TRUTH,
                chosen: tuple[str, ...] = DEFAULT_COLUMNS) -> list[MetricRow]:
    """PSNR/SSIM and the other `chosen` metrics of every image against the reference (optionally
    inside `region`).

    role (see `reference_role`): against a ground truth the rows are plain; against a reference
    the user chose they say "vs <name>, not ground truth"; against an automatic one (e.g. LibRaw's
    rendering of a real RAW) no full-reference number is given, since it would read as quality.
    No-reference metrics (NIQE, BRISQUE) are each pane's own, so they are given in every case,
    and then the reference pane gets a row too.
    """
    reference = images[reference_id]
    rows = []
    suffix = f"vs {labels.get(reference_id, 'the reference')}, not ground truth" if role == CHOSEN else ""
    with_ref, own = metric_columns.full_reference_extra(chosen), metric_columns.no_reference(chosen)

    def own_values(image: Image) -> tuple[dict[str, float | None], list[str]]:
        same_grid = (image.width, image.height) == (reference.width, reference.height)
        return metric_columns.metric_values(own, image.rgb(), None, conv, region if same_grid else None)

    def row(item_id: int, psnr, ssim, note: str, values: dict, reasons: list[str]) -> MetricRow:
        note = " · ".join(t for t in (note, *dict.fromkeys(reasons)) if t)
        return MetricRow(item_id, labels[item_id], psnr, ssim, note, values)

    for item_id, image in images.items():
        values, reasons = own_values(image) if own else ({}, [])
        values.update({n: None for n in with_ref})
        if item_id == reference_id:
            if own:
                rows.append(row(item_id, None, None, "the reference", values, reasons))
            continue
        if role == AUTOMATIC:
            rows.append(row(item_id, None, None, NO_GROUND_TRUTH, values, reasons))
            continue
        if image.meta.get("simulated_lr"):   # the SR input itself: pixel repetition is no method's result
            rows.append(row(item_id, None, None,
                            f"the ×1/{image.meta['simulated_lr']} input of the SR methods, not a result",
                            values, reasons))
            continue
        try:
            al = _aligned(image, reference)
            value = psnr_ssim(al.image, al.reference, conv, region=al.local(region))
            extra, why = metric_columns.metric_values(with_ref, al.image, al.reference, conv, al.local(region))
            values.update(extra)
            rows.append(row(item_id, value.psnr, value.ssim, " · ".join(t for t in (suffix, al.note) if t),
                            values, reasons + why))
        except IspViewerError as err:
            rows.append(row(item_id, None, None, str(err), values, reasons))
    return rows


def radial_spectra(images: dict[int, Image], labels: dict[int, str], region: Region | None = None
                   ) -> dict[int, tuple[str, np.ndarray, np.ndarray]]:
    """item id -> (label, frequency, power); ROI given on the reference grid of each image."""
    out = {}
    for item_id, image in images.items():
        try:
            freq, power = radial_power_spectrum(image.rgb(), "luminance", region=region)
            out[item_id] = (labels[item_id], freq, power)
        except IspViewerError:
            continue
    return out
