"""`export_figure`: the one entry point the CLI and the GUI share for writing a figure.

    isp-viewer export SESSION.ispv --figure NAME --out fig.pdf|svg|png|pptx

The session says *what* to show (methods, ROIs, display settings, metric convention, layout);
an `ImageProvider` supplied by the caller says *what the methods produced*. The CLI builds a
provider that runs or loads each method headlessly; the GUI hands over the results it already
holds. Both then call `export_figure`, so both write the same bytes.

ImageProvider contract:
- `image(method_id) -> Image`: the method's output on the session's reference pixel grid, so
  every method of one figure has the same H x W (the provider brings e.g. a x4 output and its
  comparison images to one common grid). Linear images are shown with the session's display
  settings (exposure, gamma) through `Image.to_display`.
- `caption(method_id, metrics, convention) -> str | None`: the caption under that method, for
  the metric names in `metrics` (e.g. "PSNR/SSIM") computed with `convention` (the session's
  metric convention dict). The provider owns metric computation; None = no caption.
Raise `InputError` for a method the provider cannot supply.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from isp_viewer.core.errors import InputError
from isp_viewer.core.image import Image
from isp_viewer.export.figure import Figure, FigureLayout, Panel, compose, single_roi_layout
from isp_viewer.export.render import render_png, render_vector
from isp_viewer.export.session_file import RoiRef, SessionDoc, atomic_write_bytes
from isp_viewer.export.slides import Slide, render_pptx

FORMATS = ("png", "svg", "pdf", "pptx")


class ImageProvider(Protocol):
    """Supplies method outputs and their captions for a figure (see the module docstring)."""

    def image(self, method_id: str) -> Image: ...

    def caption(self, method_id: str, metrics: str, convention: Mapping[str, Any]) -> str | None: ...


@dataclass(frozen=True)
class StaticImageProvider:
    """An ImageProvider over results already in memory: images by method id, captions by method id."""

    images: Mapping[str, Image]
    captions: Mapping[str, str] = field(default_factory=dict)

    def image(self, method_id: str) -> Image:
        try:
            return self.images[method_id]
        except KeyError:
            raise InputError(f"no image for method '{method_id}'") from None

    def caption(self, method_id: str, metrics: str, convention: Mapping[str, Any]) -> str | None:
        return self.captions.get(method_id)


def format_for(out_path: str | os.PathLike, fmt: str | None = None) -> str:
    fmt = (fmt or Path(out_path).suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise InputError(f"cannot export a figure as '{fmt or Path(out_path).name}': use one of {', '.join(FORMATS)}")
    return fmt


def export_figure(doc: SessionDoc, figure_name: str, out_path: str | os.PathLike, image_provider: ImageProvider,
                  fmt: str | None = None, title: str | None = None) -> Path:
    """Write figure `figure_name` of `doc` to `out_path` (format from the suffix unless `fmt`).

    title: the deck's first slide title (PPTX); default `deck_title`.

    The file is written atomically and its bytes depend only on the session and the provider's
    images and captions. Raises InputError for an unknown figure, method or ROI, or a bad format.
    """
    if figure_name not in doc.figures:
        raise InputError(f"the session has no figure '{figure_name}' (it has: {', '.join(doc.figures) or 'none'})")
    data = render_bytes(doc, doc.figures[figure_name], image_provider, format_for(out_path, fmt),
                        deck_title(doc, figure_name) if title is None else title)
    out = Path(out_path)
    atomic_write_bytes(out, data)
    return out


def deck_title(doc: SessionDoc, figure_name: str) -> str:
    """A named figure's name; for the default "figure", what the session compares (its first input,
    and how the input was simulated), so the GUI and the CLI title a deck alike."""
    if figure_name != "figure" or not doc.inputs:
        return figure_name
    first = doc.inputs[0]
    how = (f" · bicubic ×1/{first.simulate_lr}" if first.simulate_lr else
           f" · simulated {first.simulate_cfa} mosaic" if first.simulate_cfa else "")
    return f"{Path(first.path).stem}{how}"


def render_bytes(doc: SessionDoc, layout: FigureLayout, image_provider: ImageProvider, fmt: str,
                 title: str = "") -> bytes:
    """The exported file's bytes for `layout` (which need not be stored in `doc` yet)."""
    panels, rois = prepare_panels(doc, layout, image_provider)
    layout = with_footnote(layout, doc)
    if fmt == "pptx":
        return render_pptx(slides_for(panels, rois, layout, title), title)
    fig = compose(panels, rois, layout)
    return render_png(fig) if fmt == "png" else render_vector(fig, fmt)


def figure_for(doc: SessionDoc, layout: FigureLayout, image_provider: ImageProvider) -> Figure:
    """The composed figure model (for previews and tests)."""
    panels, rois = prepare_panels(doc, layout, image_provider)
    return compose(panels, rois, with_footnote(layout, doc))


def slides_for(panels: Sequence[Panel], rois: Sequence[RoiRef], layout: FigureLayout, title: str = "") -> list[Slide]:
    """The whole figure on the first slide, then one slide per ROI comparing every method."""
    slides = [Slide(title, compose(panels, rois, layout))]
    # On a slide of its own an ROI's crops may be as large as the overview beside them (then their
    # labels and captions are readable), not the figure's small insets.
    view_h = int(np.asarray(panels[0].image).shape[0]) if panels else layout.inset_size
    roi_layout = replace(single_roi_layout(layout), inset_size=max(layout.inset_size, int(view_h * 0.6)))
    for roi in rois:
        slides.append(Slide(f"ROI: {roi.name or roi.id}", compose(panels, [roi], roi_layout)))
    return slides


def prepare_panels(doc: SessionDoc, layout: FigureLayout,
                   image_provider: ImageProvider) -> tuple[list[Panel], list[RoiRef]]:
    """Panels in the layout's method order and its ROIs (None in the layout: all of the session's)."""
    method_ids = [m.id for m in doc.methods] if layout.methods is None else list(layout.methods)
    if not method_ids:
        raise InputError("the session has no methods to put in a figure")
    methods = [doc.method(mid) for mid in method_ids]
    rois = list(doc.rois) if layout.rois is None else [doc.roi(rid) for rid in layout.rois]
    images = {m.id: image_provider.image(m.id) for m in methods}
    errors: dict[str, np.ndarray] = {}
    ref_label = ""
    if layout.error_map:
        ref_id = layout.error_reference or method_ids[0]
        reference = images[ref_id] if ref_id in images else image_provider.image(ref_id)
        ref_label = doc.method(ref_id).label
        cmap = doc.display.colormaps.get("error", "inferno")
        errors = {mid: colour_error(absolute_error(img, reference), layout.error_range, cmap)
                  for mid, img in images.items()}
    panels = []
    for m in methods:
        caption = None
        if layout.show_captions and layout.caption_metrics:
            caption = image_provider.caption(m.id, layout.caption_metrics, doc.metric_convention)
        pixels = images[m.id].to_display(doc.display.exposure, doc.display.gamma)
        panels.append(Panel(m.label, pixels, caption, errors.get(m.id), f"|{m.label} − {ref_label}|" if errors else ""))
    return panels, rois


def absolute_error(image: Image, reference: Image) -> np.ndarray:
    """HxW float32 |image - reference| averaged over channels, on the images' own values
    (the analysis package's absolute error map; its percentile range is not used: a figure
    shares one fixed range, `layout.error_range`, across its panels)."""
    from isp_viewer.analysis.error_maps import error_map  # imports cv2/FLIP: only when asked for

    return error_map(image, reference, "absolute").data


def colour_error(error: np.ndarray, top: float, cmap_name: str) -> np.ndarray:
    """HxW error -> HxWx3 uint8 through a matplotlib colour map, 0..top spread over the map."""
    import matplotlib

    try:
        cmap = matplotlib.colormaps[cmap_name]
    except KeyError:
        raise InputError(f"unknown colour map '{cmap_name}'") from None
    lut = (cmap(np.linspace(0.0, 1.0, 256))[:, :3] * 255 + 0.5).astype(np.uint8)
    index = (np.clip(error / np.float32(top), 0, 1) * 255 + 0.5).astype(np.uint8)
    return lut[index]


def with_footnote(layout: FigureLayout, doc: SessionDoc) -> FigureLayout:
    """The layout with its footnote filled from the metric convention when it has none."""
    if layout.footnote or not (layout.show_captions and layout.caption_metrics):
        return layout
    return replace(layout, footnote=convention_footnote(layout.caption_metrics, doc.metric_convention))


def convention_footnote(metrics: str, convention: Mapping[str, Any]) -> str:
    """e.g. "PSNR/SSIM on the Y channel, 4 px border cropped, data range 1.0, 8-bit quantized"."""
    if not convention:
        return ""
    parts = []
    for key, value in convention.items():
        if key == "channel":
            parts.append(f"on the {value} channel" if value in ("Y", "y") else f"on {value}")
        elif key == "crop_border":
            parts.append(f"{value} px border cropped" if value else "no border cropped")
        elif key == "data_range":
            parts.append(f"data range {value}")
        elif key == "name":
            continue   # the preset's name repeats the facts listed here
        elif key == "quantize":
            parts.append("8-bit quantized" if value is True
                         else ("not quantized" if value is False else f"quantize {value}"))
        else:
            parts.append(f"{key} {value}")
    head = f"{metrics} " if metrics else ""
    return f"{head}{', '.join(parts)}."
