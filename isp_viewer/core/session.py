"""The evented state the window shows: sources, panes and their methods, the reference, the shared
viewport, the ROI, display settings and the analysis results derived from the panes.

Plain Python (no Qt): listeners are callables, called on the thread that changes the session —
the window only changes it on the GUI thread. Widgets write here and listen here, never to each
other. Removing a pane removes everything derived from it (its metrics row, its spectrum curve,
its source when no other pane uses it), so a saved session never lists a closed pane.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from isp_viewer.core.image import Image
from isp_viewer.core.methods import Method, is_ground_truth, same_result
from isp_viewer.core.region import Region, fit_region

MAX_ZOOM = 32.0
DEFAULT_METRICS = ("PSNR", "SSIM")   # the metrics table's columns until the user picks others


class Event:
    """A minimal signal: connect(callable), emit(*args)."""

    def __init__(self) -> None:
        self._listeners: list[Callable[..., Any]] = []

    def connect(self, fn: Callable[..., Any]) -> None:
        self._listeners.append(fn)

    def disconnect(self, fn: Callable[..., Any]) -> None:
        self._listeners.remove(fn)

    def emit(self, *args: Any) -> None:
        for fn in list(self._listeners):
            fn(*args)


@dataclass(frozen=True)
class PaneItem:
    """One method's result for one source, as a pane shows it. is_input: the pane shows an opened
    file as it is (the candidates for the reference)."""

    id: int
    label: str
    source_path: str = ""
    method: Method | None = None
    image: Image | None = None
    status: str = "loading"   # loading | ready | error
    message: str = ""
    progress: float | None = None
    is_input: bool = False


@dataclass(frozen=True)
class Viewport:
    """What every pane looks at: centre (x, y) in reference pixels and zoom in screen pixels per
    reference pixel; zoom None = fit the whole image into each pane."""

    cx: float = 0.0
    cy: float = 0.0
    zoom: float | None = None


@dataclass(frozen=True)
class Display:
    """exposure in stops; gamma None = the sRGB curve for linear images; mode: "image" or an
    analysis mode (error map, FFT) shown in every pane."""

    exposure: float = 0.0
    gamma: float | None = None
    mode: str = "image"


@dataclass(frozen=True)
class PaneGeometry:
    """Where a pane's image sits on the reference grid: (x, y, w, h) in reference pixels. An
    output at an integer multiple of the reference (x2/x4/x8) covers the same rectangle; any other
    shape keeps its own aspect (scaled to the reference width), never a non-uniform stretch."""

    x: float
    y: float
    w: float
    h: float

    @property
    def pixel_aspect(self) -> float:
        """Reference pixels per image pixel horizontally / vertically (1.0 = no stretch)."""
        return 1.0 if self.h == 0 else self.w / self.h


def pane_geometry(image_size: tuple[int, int], reference_size: tuple[int, int] | None) -> PaneGeometry:
    """The rectangle of an image of `image_size` (w, h) on the reference grid (see PaneGeometry)."""
    w, h = image_size
    if reference_size is None:
        return PaneGeometry(0, 0, w, h)
    rw, rh = reference_size
    for k in (1, 2, 3, 4, 8):
        if (w * k == rw and h * k == rh) or (w == rw * k and h == rh * k):
            return PaneGeometry(0, 0, rw, rh)
    scale = rw / w   # another shape: same width as the reference, its own aspect
    return PaneGeometry(0, 0, rw, h * scale)


def moved_inside(region: Region, width: int, height: int) -> Region:
    """A dragged ROI stays on the image: moved back inside, shrunk only if larger than the image;
    the result always passes core.region.fit_region unchanged."""
    w, h = max(1, min(region.w, width)), max(1, min(region.h, height))
    x, y = min(max(region.x, 0), width - w), min(max(region.y, 0), height - h)
    inside, _warning = fit_region(Region(x, y, w, h), width, height)
    return inside


class Session:
    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.items: dict[int, PaneItem] = {}
        self.sources: dict[str, Any] = {}   # path -> RawMosaic | Image (what networks take as input)
        self.reference_id: int | None = None
        # False while the reference is only the first opened input (no one chose it): then it is
        # not a ground truth, and metrics against it would read as quality.
        self.reference_chosen = False
        self.viewport = Viewport()
        self.display = Display()
        self.roi: Region | None = None           # the live ROI the analysis is restricted to
        self.kept_rois: list[Region] = []        # kept for figures and studies
        self.metric_rows: dict[int, Any] = {}    # item id -> analysis row
        self.spectra: dict[int, Any] = {}        # item id -> (label, frequency, power)
        self.metrics: tuple[str, ...] = DEFAULT_METRICS   # the metrics table's chosen columns
        self.item_added = Event()
        self.item_changed = Event()
        self.item_removed = Event()
        self.reference_changed = Event()
        self.viewport_changed = Event()
        self.display_changed = Event()
        self.roi_changed = Event()
        self.analysis_changed = Event()
        self.metrics_changed = Event()

    # --- panes -----------------------------------------------------------------------------
    def add_item(self, label: str, source_path: str = "", method: Method | None = None,
                 is_input: bool = False) -> PaneItem:
        """A new pane. The first opened input becomes the reference (not "chosen")."""
        item = PaneItem(next(self._ids), label, source_path, method, is_input=is_input)
        self.items[item.id] = item
        self.item_added.emit(item)
        if self.reference_id is None and (is_input or is_ground_truth(method)):
            self.set_reference(item.id, chosen=False)
        return item

    def find_same(self, source_path: str, method: Method | None) -> PaneItem | None:
        """An open pane that already shows `method` on that source (to avoid a duplicate pane)."""
        return next((i for i in self.items.values() if i.source_path == source_path and i.status != "error"
                     and same_result(i.method, method)), None)

    def update_item(self, item_id: int, **changes: Any) -> PaneItem | None:
        if item_id not in self.items:
            return None  # removed meanwhile: the result is stale
        item = replace(self.items[item_id], **changes)
        self.items[item_id] = item
        self.item_changed.emit(item)
        return item

    def remove_item(self, item_id: int) -> None:
        item = self.items.pop(item_id, None)
        if item is None:
            return
        self.metric_rows.pop(item_id, None)
        self.spectra.pop(item_id, None)
        if item.source_path and not any(i.source_path == item.source_path for i in self.items.values()):
            self.sources.pop(item.source_path, None)
        self.item_removed.emit(item_id)
        self.analysis_changed.emit()
        if self.reference_id == item_id:
            inputs = [i for i in self.items.values() if i.is_input or is_ground_truth(i.method)]
            self.set_reference(inputs[0].id if inputs else None, chosen=False)

    def clear(self) -> None:
        for item_id in list(self.items):
            self.remove_item(item_id)
        self.kept_rois.clear()
        self.set_roi(None)

    # --- reference -------------------------------------------------------------------------
    def set_reference(self, item_id: int | None, chosen: bool = True) -> None:
        """Make `item_id` the reference; chosen=False for the session's own choice (the first input)."""
        if item_id != self.reference_id or chosen != self.reference_chosen:
            self.reference_id = item_id
            self.reference_chosen = chosen and item_id is not None
            self.reference_changed.emit(item_id)

    @property
    def reference(self) -> PaneItem | None:
        return self.items.get(self.reference_id) if self.reference_id is not None else None

    def reference_size(self) -> tuple[int, int] | None:
        ref = self.reference
        return None if ref is None or ref.image is None else (ref.image.width, ref.image.height)

    def geometry(self, item_id: int) -> PaneGeometry | None:
        item = self.items.get(item_id)
        if item is None or item.image is None:
            return None
        return pane_geometry((item.image.width, item.image.height), self.reference_size() or
                             (item.image.width, item.image.height))

    # --- view ------------------------------------------------------------------------------
    def set_viewport(self, cx: float, cy: float, zoom: float | None) -> None:
        zoom = None if zoom is None else min(max(float(zoom), 1e-4), MAX_ZOOM)
        viewport = Viewport(float(cx), float(cy), zoom)
        if viewport != self.viewport:
            self.viewport = viewport
            self.viewport_changed.emit(viewport)

    def fit(self) -> None:
        size = self.reference_size()
        cx, cy = (size[0] / 2, size[1] / 2) if size else (0.0, 0.0)
        self.set_viewport(cx, cy, None)

    def set_display(self, **changes: Any) -> None:
        display = replace(self.display, **changes)
        if display != self.display:
            self.display = display
            self.display_changed.emit(display)

    # --- regions ---------------------------------------------------------------------------
    def set_roi(self, region: Region | None) -> None:
        """The live ROI, clamped to the reference image (core.region's clamp rule)."""
        size = self.reference_size()
        if region is not None and size is not None:
            region = moved_inside(region, *size)
        if region != self.roi:
            self.roi = region
            self.roi_changed.emit(region)

    def keep_roi(self, region: Region) -> bool:
        if region in self.kept_rois:
            return False
        self.kept_rois.append(region)
        return True

    def set_metrics(self, names) -> None:
        """The metrics table's columns (catalogue names, in the catalogue's order); saved with the session."""
        names = tuple(names)
        if names != self.metrics:
            self.metrics = names
            self.metrics_changed.emit(names)

    # --- derived results -------------------------------------------------------------------
    def set_analysis(self, rows: dict[int, Any], spectra: dict[int, Any]) -> None:
        """Metrics rows and spectra computed from the panes; entries of closed panes are dropped."""
        self.metric_rows = {k: v for k, v in rows.items() if k in self.items or k < 0}
        self.spectra = {k: v for k, v in spectra.items() if k in self.items}
        self.analysis_changed.emit()
