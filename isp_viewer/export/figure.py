"""Figure composer: comparison grids with zoomed insets, built from arrays and Regions.

The composer turns panels (one per method) and ROIs into a `Figure`: a flat list of positioned
rasters, rectangle outlines and text lines in *output pixels*. Every renderer (PNG, SVG, PDF,
PowerPoint) draws that same model, so all formats share one geometry.

Pixel contract:
- Panel images are HxWx3, either float32 display-referred in [0, 1] or uint8, all on the same
  reference grid (same H and W). Floats become uint8 as round(clip(x, 0, 1) * 255), the
  rounding `Image.to_display` uses.
- An inset is the ROI crop of the full-resolution panel, enlarged by an integer factor with
  nearest neighbour (each source pixel becomes a k x k block). Renderers place rasters at integer
  positions without resampling, so the inset pixels of a PNG equal that enlargement exactly.
- Borders are drawn *outside* inset pixels, never over them.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from isp_viewer.core.errors import InputError
from isp_viewer.core.region import Region

ROW_MODES = ("images", "rois")
INSET_POSITIONS = ("beside", "below", "overlay")
OVERLAY_CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")
DEFAULT_ROI_COLOURS = ("#e41a1c", "#377eb8", "#4daf4a", "#ff7f00", "#984ea3", "#ffd92f")
LINE_SPACING = 1.3          # line height / font size
FOOTNOTE_SCALE = 0.8        # footnote font size / layout font size
MIN_TEXT_SCALE = 0.6        # a label too wide for its panel shrinks at most to this


@dataclass(frozen=True)
class FigureLayout:
    """How one figure is laid out. All lengths are output pixels; `font_size` is in points.

    methods, rois: ids in display order; None = all of the session's, in its order
    (an empty tuple of ROIs means no insets).

    rows: "images" puts one cell per method (full view with ROI boxes + its insets), `columns`
    cells per row. "rois" puts one row per ROI with every method's crop side by side, an
    optional overview (first method, full view) on the left; `columns` is ignored there.
    inset_size: target long side of an inset; the enlargement is the largest integer k with
    k * max(roi w, roi h) <= inset_size (at least 1, so a large ROI can exceed it).
    view_width: width of the full views (0 = native width); only views are resampled, never insets.
    caption_metrics: what the captions report (e.g. "PSNR/SSIM"); the caption text itself comes
    from the image provider. footnote: convention note under the figure, shown with the captions
    ("" = let `export_figure` derive it from the session's metric convention).
    overview: in "rois" mode, show the first method's full view with the ROI boxes.
    error_reference: method id the error maps compare against ("" = first method).
    error_range: error value shown as the top of the colour map.
    """

    methods: tuple[str, ...] | None = None
    rois: tuple[str, ...] | None = None
    rows: str = "images"
    inset_size: int = 160
    inset_position: str = "beside"
    overlay_corner: str = "bottom-right"
    spacing: int = 8
    font_size: float = 9.0
    columns: int = 3
    show_labels: bool = True
    show_captions: bool = True
    caption_metrics: str = "PSNR/SSIM"
    footnote: str = ""
    error_map: bool = False
    error_reference: str = ""
    error_range: float = 0.1
    view_width: int = 0
    overview: bool = True
    line_width: int = 2
    dpi: int = 300

    def __post_init__(self) -> None:
        for name in ("methods", "rois"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, tuple(getattr(self, name)))
        problem = self._problem()
        if problem:
            raise ValueError(f"FigureLayout: {problem}")

    def _problem(self) -> str:
        if self.rows not in ROW_MODES:
            return f"rows must be one of {ROW_MODES}, got {self.rows!r}"
        if self.inset_position not in INSET_POSITIONS:
            return f"inset_position must be one of {INSET_POSITIONS}, got {self.inset_position!r}"
        if self.overlay_corner not in OVERLAY_CORNERS:
            return f"overlay_corner must be one of {OVERLAY_CORNERS}, got {self.overlay_corner!r}"
        for name in ("inset_size", "columns", "dpi"):
            if int(getattr(self, name)) < 1:
                return f"{name} must be at least 1, got {getattr(self, name)}"
        for name in ("spacing", "view_width", "line_width"):
            if int(getattr(self, name)) < 0:
                return f"{name} must be non-negative, got {getattr(self, name)}"
        if not self.font_size > 0:
            return f"font_size must be positive, got {self.font_size}"
        if not self.error_range > 0:
            return f"error_range must be positive, got {self.error_range}"
        return ""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for name in ("methods", "rois"):
            d[name] = None if getattr(self, name) is None else list(getattr(self, name))
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FigureLayout:
        """Inverse of to_dict. Missing keys take defaults; unknown keys or bad values raise ValueError."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(d) - set(known))
        if unknown:
            raise ValueError(f"FigureLayout: unknown keys {unknown}")
        kwargs: dict[str, Any] = {}
        for name, value in d.items():
            default = getattr(cls(), name)
            if name in ("methods", "rois"):
                if value is None:
                    pass
                elif not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
                    raise ValueError(f"FigureLayout: {name} must be null or a list of ids")
                else:
                    value = tuple(value)
            elif isinstance(default, bool):
                if not isinstance(value, bool):
                    raise ValueError(f"FigureLayout: {name} must be true or false, got {value!r}")
            elif isinstance(default, int):
                if isinstance(value, bool) or not isinstance(value, int):
                    raise ValueError(f"FigureLayout: {name} must be an integer, got {value!r}")
            elif isinstance(default, float):
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise ValueError(f"FigureLayout: {name} must be a number, got {value!r}")
                value = float(value)
            elif isinstance(default, str) and not isinstance(value, str):
                raise ValueError(f"FigureLayout: {name} must be a string, got {value!r}")
            kwargs[name] = value
        return cls(**kwargs)


class RoiLike(Protocol):
    """What the composer needs of a ROI (session_file.RoiRef satisfies it)."""

    id: str
    name: str
    region: Region
    colour: str


@dataclass(frozen=True)
class Panel:
    """One method's picture: label, HxWx3 image (float32 [0,1] display-referred, or uint8), caption.

    error: optional HxWx3 colour-mapped error image (same contract) for the error-map row.
    """

    label: str
    image: np.ndarray
    caption: str | None = None
    error: np.ndarray | None = None
    error_label: str = ""


# ----------------------------------------------------------------------------- figure model

@dataclass(frozen=True, eq=False)
class RasterItem:
    """uint8 HxWx3 pixels whose top-left pixel lands on output pixel (x, y), unresampled.

    role: "view", "inset", "error_view", "error_inset" or "overview"; panel: index into the
    panels (-1 for none); roi: ROI id for insets; scale: the inset's nearest-neighbour factor.
    """

    x: int
    y: int
    pixels: np.ndarray
    role: str
    panel: int = -1
    roi: str | None = None
    scale: int = 1

    @property
    def w(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def h(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def region(self) -> Region:
        return Region(self.x, self.y, self.w, self.h)


@dataclass(frozen=True)
class RectItem:
    """An outline `width` px thick lying inside the box [x, x+w) x [y, y+h); colour '#rrggbb'."""

    x: int
    y: int
    w: int
    h: int
    colour: str
    width: int


@dataclass(frozen=True)
class TextItem:
    """Text whose first line's top is at y, aligned ("center" or "left") within [x, x + box_w)."""

    x: int
    y: int
    box_w: int
    text: str
    size_pt: float
    align: str = "center"
    role: str = "label"
    colour: str = "#000000"


@dataclass(frozen=True, eq=False)
class Figure:
    """A composed figure: canvas size in pixels, the DPI its point sizes refer to, and items
    drawn in order rasters, rects, texts on a white background."""

    width: int
    height: int
    dpi: int
    rasters: tuple[RasterItem, ...] = ()
    rects: tuple[RectItem, ...] = ()
    texts: tuple[TextItem, ...] = ()
    background: str = "#ffffff"

    def find_raster(self, role: str, panel: int = -1, roi: str | None = None) -> RasterItem:
        for item in self.rasters:
            if item.role == role and item.panel == panel and item.roi == roi:
                return item
        raise KeyError(f"no {role} raster for panel {panel}, roi {roi}")


# ----------------------------------------------------------------------------- pixels & fonts

def to_uint8(image: np.ndarray) -> np.ndarray:
    """HxWx3 (or HxW / HxWx1) float [0,1] or uint8 -> C-contiguous HxWx3 uint8."""
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 3):
        raise InputError(f"figure images must be HxWx3, got shape {arr.shape}")
    if arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    if arr.dtype != np.uint8:
        arr = (np.clip(arr.astype(np.float32), 0, 1) * 255 + 0.5).astype(np.uint8)
    return np.ascontiguousarray(arr)


def enlarge_nearest(pixels: np.ndarray, k: int) -> np.ndarray:
    """Each pixel becomes a k x k block."""
    return np.repeat(np.repeat(pixels, k, axis=0), k, axis=1) if k > 1 else pixels


def resize_view(pixels: np.ndarray, width: int) -> np.ndarray:
    """A full view at `width` px: integer enlargements by nearest neighbour, anything else by
    Lanczos (views are for context; only insets promise exact pixels)."""
    h, w = pixels.shape[:2]
    if width <= 0 or width == w:
        return pixels
    if width % w == 0:
        return enlarge_nearest(pixels, width // w)
    from PIL import Image as PILImage

    height = max(1, int(round(h * width / w)))
    return np.asarray(PILImage.fromarray(pixels).resize((width, height), PILImage.Resampling.LANCZOS))


def font_path() -> str:
    """DejaVu Sans as shipped inside matplotlib: the same face for PNG (PIL) and SVG/PDF."""
    import matplotlib

    return str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf")


def font_px(size_pt: float, dpi: int) -> float:
    """Font size in output pixels (fractional: PIL and matplotlib both take exact sizes)."""
    return max(1.0, size_pt * dpi / 72.0)


_fonts = threading.local()


def pil_font(px: float):
    """A PIL font of `px` pixels, cached per thread (a FreeType face must not be shared between
    threads, and the preview renders in a worker while the GUI thread may export)."""
    from PIL import ImageFont

    cache = _fonts.__dict__.setdefault("by_size", {})
    if px not in cache:
        cache[px] = ImageFont.truetype(font_path(), px)
    return cache[px]


def text_width(text: str, size_pt: float, dpi: int) -> int:
    font = pil_font(font_px(size_pt, dpi))
    return max((int(math.ceil(font.getlength(line))) for line in text.split("\n")), default=0)


def line_height(size_pt: float, dpi: int) -> int:
    return int(math.ceil(font_px(size_pt, dpi) * LINE_SPACING))


def wrap_to_width(text: str, size_pt: float, dpi: int, width: int) -> str:
    """Greedy word wrap so that each line fits `width` px (a single long word may still overflow)."""
    out: list[str] = []
    for paragraph in text.split("\n"):
        words = paragraph.split(" ")
        line = ""
        for word in words:
            trial = f"{line} {word}" if line else word
            if line and text_width(trial, size_pt, dpi) > width:
                out.append(line)
                line = word
            else:
                line = trial
        out.append(line)
    return "\n".join(out)


def inset_scale(region: Region, inset_size: int) -> int:
    return max(1, inset_size // max(1, region.w, region.h))


def roi_colour(roi: RoiLike, index: int) -> str:
    return roi.colour or DEFAULT_ROI_COLOURS[index % len(DEFAULT_ROI_COLOURS)]


# ----------------------------------------------------------------------------- composition

@dataclass
class _Canvas:
    """Mutable item lists while composing."""

    rasters: list[RasterItem] = field(default_factory=list)
    rects: list[RectItem] = field(default_factory=list)
    texts: list[TextItem] = field(default_factory=list)


@dataclass(frozen=True)
class _Inset:
    roi: RoiLike
    colour: str
    region: Region   # clipped to the image
    k: int

    @property
    def w(self) -> int:
        return self.region.w * self.k

    @property
    def h(self) -> int:
        return self.region.h * self.k


def compose(panels: Sequence[Panel], rois: Sequence[RoiLike], layout: FigureLayout) -> Figure:
    """Lay out panels (in the given order) and ROIs (in the given order) as `layout` says.

    The caller has already selected and ordered panels and ROIs (`layout.methods`/`layout.rois`
    are ids for `export_figure`; they are not consulted here). Raises InputError when there is no
    panel, when panels differ in size, or when a ROI lies outside the image.
    """
    if not panels:
        raise InputError("a figure needs at least one method")
    images = [to_uint8(p.image) for p in panels]
    height, width = images[0].shape[:2]
    for panel, img in zip(panels, images):
        if img.shape[:2] != (height, width):
            raise InputError(
                f"method '{panel.label}' is {img.shape[1]}x{img.shape[0]} but the figure's reference grid is "
                f"{width}x{height}; images must share the reference grid")
    errors = [to_uint8(p.error) if p.error is not None else None for p in panels]
    show_errors = layout.error_map and any(e is not None for e in errors)
    insets = _insets(rois, layout, width, height)
    if layout.rows == "images":
        return _compose_images(panels, images, errors if show_errors else None, insets, layout)
    return _compose_rois(panels, images, errors if show_errors else None, insets, layout)


def _insets(rois: Sequence[RoiLike], layout: FigureLayout, width: int, height: int) -> list[_Inset]:
    out = []
    for i, roi in enumerate(rois):
        region = roi.region.clip_to(width, height)
        if region.empty:
            raise InputError(f"ROI '{roi.name or roi.id}' {roi.region.as_tuple()} lies outside the "
                             f"{width}x{height} image")
        out.append(_Inset(roi, roi_colour(roi, i), region, inset_scale(region, layout.inset_size)))
    return out


def _margin(layout: FigureLayout) -> int:
    return max(layout.spacing, 2 * layout.line_width)


def _caption_lines(panels: Sequence[Panel], layout: FigureLayout) -> int:
    if not layout.show_captions:
        return 0
    return max((p.caption.count("\n") + 1 for p in panels if p.caption), default=0)


@dataclass(frozen=True)
class _CellGeometry:
    """Where things go inside an "images" cell, relative to its body's top-left."""

    view_w: int
    view_h: int
    body_w: int
    body_h: int
    inset_xy: tuple[tuple[int, int], ...]   # top-left of each inset's pixels


def _cell_geometry(width: int, height: int, insets: list[_Inset], layout: FigureLayout) -> _CellGeometry:
    view_w = layout.view_width or width
    view_h = max(1, int(round(height * view_w / width)))
    b, gap = layout.line_width, layout.spacing
    framed = [(i.w + 2 * b, i.h + 2 * b) for i in insets]
    xy: list[tuple[int, int]] = []
    body_w, body_h = view_w, view_h
    if insets and layout.inset_position == "beside":
        x0, y = view_w + gap, 0
        for _, fh in framed:
            xy.append((x0 + b, y + b))
            y += fh + gap
        body_w = x0 + max(fw for fw, _ in framed)
        body_h = max(view_h, y - gap)
    elif insets and layout.inset_position == "below":
        x, y0 = 0, view_h + gap
        for fw, _ in framed:
            xy.append((x + b, y0 + b))
            x += fw + gap
        body_w = max(view_w, x - gap)
        body_h = y0 + max(fh for _, fh in framed)
    elif insets:  # overlay: stacked along the chosen side, starting in the corner
        right = layout.overlay_corner.endswith("right")
        bottom = layout.overlay_corner.startswith("bottom")
        y = view_h - b if bottom else b
        for fw, fh in framed:
            x = view_w - b - fw if right else b
            top = y - fh if bottom else y
            xy.append((x + b, top + b))
            y = top - gap if bottom else top + fh + gap
    return _CellGeometry(view_w, view_h, body_w, body_h, tuple(xy))


def _draw_view_with_insets(canvas: _Canvas, x: int, y: int, pixels: np.ndarray, insets: list[_Inset],
                           geo: _CellGeometry, layout: FigureLayout, panel: int, role: str) -> None:
    """A full view with ROI boxes at (x, y) and its insets where `geo` puts them."""
    height, width = pixels.shape[:2]
    canvas.rasters.append(RasterItem(x, y, resize_view(pixels, geo.view_w), role, panel))
    sx, sy = geo.view_w / width, geo.view_h / height
    b = layout.line_width
    for inset in insets:
        r = inset.region
        x0, y0 = x + int(round(r.x * sx)), y + int(round(r.y * sy))
        x1, y1 = x + int(round(r.x1 * sx)), y + int(round(r.y1 * sy))
        # The box sits just outside the ROI so the boxed pixels stay visible.
        canvas.rects.append(RectItem(x0 - b, y0 - b, x1 - x0 + 2 * b, y1 - y0 + 2 * b, inset.colour, b))
    inset_role = "error_inset" if role == "error_view" else "inset"
    for inset, (ix, iy) in zip(insets, geo.inset_xy):
        _draw_inset(canvas, x + ix, y + iy, pixels, inset, b, panel, inset_role)


def _draw_inset(canvas: _Canvas, x: int, y: int, pixels: np.ndarray, inset: _Inset, b: int,
                panel: int, role: str) -> None:
    crop = enlarge_nearest(np.ascontiguousarray(inset.region.crop(pixels)), inset.k)
    canvas.rasters.append(RasterItem(x, y, crop, role, panel, inset.roi.id, inset.k))
    if b:
        canvas.rects.append(RectItem(x - b, y - b, inset.w + 2 * b, inset.h + 2 * b, inset.colour, b))


def _compose_images(panels: Sequence[Panel], images: list[np.ndarray], errors: list | None,
                    insets: list[_Inset], layout: FigureLayout) -> Figure:
    height, width = images[0].shape[:2]
    geo = _cell_geometry(width, height, insets, layout)
    lh = line_height(layout.font_size, layout.dpi)
    label_h = lh if layout.show_labels else 0
    caption_lines = _caption_lines(panels, layout)
    caption_h = caption_lines * lh + (layout.spacing // 2 if caption_lines else 0)
    cell_w = geo.body_w
    cell_h = label_h + geo.body_h + caption_h
    error_h = label_h + geo.body_h
    margin, gap = _margin(layout), layout.spacing
    columns = min(layout.columns, len(panels))
    grid_rows = int(math.ceil(len(panels) / columns))
    canvas = _Canvas()

    y = margin
    for row in range(grid_rows):
        members = range(row * columns, min(len(panels), (row + 1) * columns))
        for col, p in enumerate(members):
            x = margin + col * (cell_w + gap)
            _cell(canvas, x, y, panels[p].label, panels[p].caption if caption_lines else None,
                  images[p], insets, geo, layout, p, "view", label_h)
        y += cell_h + gap
        if errors is not None:
            for col, p in enumerate(members):
                if errors[p] is None:
                    continue
                x = margin + col * (cell_w + gap)
                label = panels[p].error_label or f"error: {panels[p].label}"
                _cell(canvas, x, y, label, None, errors[p], insets, geo, layout, p, "error_view", label_h)
            y += error_h + gap
    canvas_w = 2 * margin + columns * cell_w + (columns - 1) * gap
    y = _footnote(canvas, layout, margin, y - gap, canvas_w - 2 * margin)
    return Figure(canvas_w, y + margin, layout.dpi, tuple(canvas.rasters), tuple(canvas.rects), tuple(canvas.texts))


def _cell(canvas: _Canvas, x: int, y: int, label: str, caption: str | None, pixels: np.ndarray,
          insets: list[_Inset], geo: _CellGeometry, layout: FigureLayout, panel: int, role: str,
          label_h: int) -> None:
    # Text centres on the view when insets stand beside it, else on the whole body.
    text_w = geo.view_w if layout.inset_position == "beside" else geo.body_w
    if label_h:
        canvas.texts.append(_centred(x, y, text_w, label, layout, "label"))
    _draw_view_with_insets(canvas, x, y + label_h, pixels, insets, geo, layout, panel, role)
    if caption:
        top = y + label_h + geo.body_h + layout.spacing // 2
        canvas.texts.append(_centred(x, top, text_w, caption, layout, "caption"))


def _compose_rois(panels: Sequence[Panel], images: list[np.ndarray], errors: list | None,
                  insets: list[_Inset], layout: FigureLayout) -> Figure:
    """Rows of ROIs, columns of methods, optional overview of the first method on the left."""
    if not insets:
        raise InputError("a figure with rows='rois' needs at least one ROI")
    height, width = images[0].shape[:2]
    b, gap, margin = layout.line_width, layout.spacing, _margin(layout)
    lh = line_height(layout.font_size, layout.dpi)
    label_h = lh if layout.show_labels else 0
    caption_lines = _caption_lines(panels, layout)
    canvas = _Canvas()

    x0 = margin
    overview_bottom = margin
    if layout.overview:
        geo = _cell_geometry(width, height, [], layout)
        if label_h:
            canvas.texts.append(_centred(x0, margin, geo.view_w, panels[0].label, layout, "label"))
        # geo has no inset slots: the overview shows boxes only, its insets are the grid on the right.
        _draw_view_with_insets(canvas, x0, margin + label_h, images[0], insets, geo, layout, 0, "overview")
        overview_bottom = margin + label_h + geo.view_h
        x0 += geo.view_w + 2 * gap

    col_w = max(i.w for i in insets) + 2 * b
    row_kinds = [("inset", images)] + ([("error_inset", errors)] if errors is not None else [])
    y = margin
    if label_h:
        for p, panel in enumerate(panels):
            canvas.texts.append(_centred(x0 + p * (col_w + gap), y, col_w, panel.label, layout, "label"))
        y += label_h
    for inset in insets:
        for role, sources in row_kinds:
            for p, pixels in enumerate(sources):
                if pixels is None:
                    continue
                x = x0 + p * (col_w + gap) + (col_w - inset.w - 2 * b) // 2
                _draw_inset(canvas, x + b, y + b, pixels, inset, b, p, role)
            y += inset.h + 2 * b + gap
    if caption_lines:
        y += -gap + layout.spacing // 2
        for p, panel in enumerate(panels):
            if panel.caption:
                canvas.texts.append(_centred(x0 + p * (col_w + gap), y, col_w, panel.caption, layout, "caption"))
        y += caption_lines * lh + gap
    canvas_w = x0 + len(panels) * (col_w + gap) - gap + margin
    y = max(y - gap, overview_bottom)
    y = _footnote(canvas, layout, margin, y, canvas_w - 2 * margin)
    return Figure(canvas_w, y + margin, layout.dpi, tuple(canvas.rasters), tuple(canvas.rects), tuple(canvas.texts))


def _centred(x: int, y: int, box_w: int, text: str, layout: FigureLayout, role: str) -> TextItem:
    """A centred label or caption, its size reduced (down to MIN_TEXT_SCALE) to fit its box."""
    width = text_width(text, layout.font_size, layout.dpi)
    scale = 1.0 if width <= box_w else max(MIN_TEXT_SCALE, box_w / width)
    return TextItem(x, y, box_w, text, round(layout.font_size * scale, 2), "center", role)


def _footnote(canvas: _Canvas, layout: FigureLayout, x: int, bottom: int, width: int) -> int:
    """Adds the wrapped footnote under content ending at `bottom`; returns the new bottom."""
    if not (layout.footnote and layout.show_captions):
        return bottom
    y = bottom + max(1, layout.spacing // 2)
    size = layout.font_size * FOOTNOTE_SCALE
    # 3% slack: matplotlib's glyph advances run slightly wider than PIL's measure.
    text = wrap_to_width(layout.footnote, size, layout.dpi, max(1, int(width * 0.97)))
    canvas.texts.append(TextItem(x, y, width, text, size, "left", "footnote"))
    return y + (text.count("\n") + 1) * line_height(size, layout.dpi)


def single_roi_layout(layout: FigureLayout) -> FigureLayout:
    """The layout of a one-ROI comparison (a slide): methods side by side, overview on the left."""
    return replace(layout, rows="rois", overview=True)


__all__ = [
    "Figure",
    "FigureLayout",
    "Panel",
    "RasterItem",
    "RectItem",
    "RoiLike",
    "TextItem",
    "compose",
    "enlarge_nearest",
    "inset_scale",
    "single_roi_layout",
    "to_uint8",
    "wrap_to_width",
]
