"""Panes on one viewport: the grid, each pane's geometry on the reference grid, zoom,
the current pane, flicker and swipe, and the pixels each pane shows (images; analysis views in
window_analysis)."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QTimer

from isp_viewer.core.session import PaneItem, pane_geometry
from isp_viewer.ui.pane import ImagePane

MAX_PANES = 9


def grid_columns(count: int, image_size: tuple[int, int] | None, width: int, height: int) -> int:
    """The number of columns that shows `count` images of `image_size` (w, h) largest in a
    width x height area (wide images stack, tall ones sit side by side)."""
    if count <= 1:
        return 1
    if image_size is None or width < 10 or height < 10:
        return max(1, math.ceil(math.sqrt(count)))
    iw, ih = image_size
    best, best_scale = 1, -1.0
    for cols in range(1, count + 1):
        rows = math.ceil(count / cols)
        scale = min(width / cols / iw, (height / rows - 20) / ih)   # 20 px: the title row
        if scale > best_scale + 1e-9:
            best, best_scale = cols, scale
    return best


class PaneGrid:
    """Part of MainWindow (ui.main_window), which holds the state these methods share."""

    def _on_item_added(self, item: PaneItem) -> None:
        if len(self.panes) >= MAX_PANES:
            oldest = next(iter(self.panes))
            self.session.remove_item(oldest)
        pane = ImagePane(item.id)
        pane.set_title(item.label)
        pane.set_busy(True)
        pane.clicked.connect(self.set_current)
        pane.mouse_moved.connect(self._on_mouse_moved)
        pane.roi_moved.connect(lambda _source_id, rect: self.set_roi(rect))
        pane.roi_done.connect(lambda _id: self.schedule_analysis())
        if self.session.roi is not None:
            pane.show_roi(self.roi)
        pane.view.sigRangeChanged.connect(lambda *_, p=pane: self._sync_viewport(p))
        pane.view.sigRangeChangedManually.connect(lambda *_: setattr(self, "fit_mode", False))
        self.panes[item.id] = pane
        if self.current_id is None:
            self.set_current(item.id)
        self._relayout()
        QTimer.singleShot(30, self._fit_if_wanted)

    def _on_item_changed(self, item: PaneItem) -> None:
        pane = self.panes.get(item.id)
        if pane is None:
            return
        is_ref = item.id == self.session.reference_id
        pane.set_title(item.label, is_ref)
        if item.status == "error":
            pane.set_error(item.message)
            pane.set_title(f"{item.label} — failed")
        elif item.status == "ready" and item.image is not None:
            pane.set_busy(False)
            self.schedule_analysis()
            self._refresh_study_methods()
            first = self.session.reference_size() is None or item.id == self.session.reference_id
            self._refresh_display(item)
            if item.id == self.session.reference_id:
                self._relayout()   # the reference grid is known now: place every pane on it
            if first or self.fit_mode:
                QTimer.singleShot(30, self._fit_if_wanted)
        elif item.status == "loading":
            pane.set_busy(True, item.progress)

    def _on_reference_changed(self) -> None:
        self._relayout()
        self.schedule_analysis()
        if self.analysis_mode != "image":
            self._refresh_analysis_displays()

    def _on_item_removed(self, item_id: int) -> None:
        self._refresh_study_methods()
        pane = self.panes.pop(item_id, None)
        if pane is not None:
            pane.setParent(None)
            pane.deleteLater()
        if self.current_id == item_id:
            self.current_id = next(iter(self.panes), None)
        self._relayout()

    def _sync_viewport(self, source: ImagePane) -> None:
        """One shared viewport: every pane shows the same centre at the same zoom as `source`.

        (pyqtgraph's own axis links line views up by their screen position, which is right for
        stacked plots but shifts side-by-side image panes; so the panes are bound here instead.)
        """
        self._update_zoom_label()
        if getattr(self, "_syncing", False) or source.view.width() < 2:
            return
        (x0, x1), (y0, y1) = source.view.viewRange()
        scale = (x1 - x0) / source.view.width()          # data pixels per screen pixel
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        self._syncing = True
        try:
            self.session.set_viewport(cx, cy, None if self.fit_mode else 1.0 / scale)
            for pane in self.panes.values():
                if pane is source or pane.view.width() < 2:
                    continue
                hw, hh = pane.view.width() * scale / 2, pane.view.height() * scale / 2
                pane.view.setRange(xRange=(cx - hw, cx + hw), yRange=(cy - hh, cy + hh), padding=0)
        finally:
            self._syncing = False

    def _apply_viewport(self, viewport) -> None:
        """The session's viewport changed from outside the panes (a test, a reopened session)."""
        if getattr(self, "_syncing", False) or not self.panes:
            return
        if viewport.zoom is None:
            self.zoom_fit()
            return
        self.fit_mode = False
        view = self.master_view()
        half_w, half_h = view.width() / viewport.zoom / 2, view.height() / viewport.zoom / 2
        view.setRange(xRange=(viewport.cx - half_w, viewport.cx + half_w),
                      yRange=(viewport.cy - half_h, viewport.cy + half_h), padding=0)

    def _relayout(self) -> None:
        """Automatic grid; all panes bound to one viewport (see _sync_viewport)."""
        while self.grid.count():
            self.grid.takeAt(0)
        panes = list(self.panes.values())
        cols = grid_columns(len(panes), self.session.reference_size(), self.grid_host.width(), self.grid_host.height())
        self._columns = cols
        for i, pane in enumerate(panes):
            self.grid.addWidget(pane, i // cols, i % cols)
            item = self.session.items.get(pane.item_id)
            if item:
                pane.set_title(item.label if item.status != "error" else f"{item.label} — failed",
                               pane.item_id == self.session.reference_id)
        if self.session.reference_size():
            for pane in panes:
                if pane.display is not None and self.session.geometry(pane.item_id) is not None:
                    rect = self._rect_for(pane.item_id, pane.display)
                    if pane.rect_size != rect:
                        pane.set_display(pane.display, rect)
        if panes:
            QTimer.singleShot(0, lambda: self.panes and self._sync_viewport(next(iter(self.panes.values()))))

    def _rect_for(self, item_id: int, display: np.ndarray,
                  full_size: tuple[int, int] | None = None) -> tuple[float, float]:
        """(w, h) on the reference grid for a pane's pixels: the session's geometry (an integer
        scale of the reference covers it; any other shape keeps its own aspect)."""
        geometry = self.session.geometry(item_id)
        if geometry is None:
            size = full_size or (display.shape[1], display.shape[0])
            geometry = pane_geometry(size, self.session.reference_size() or size)
        return geometry.w, geometry.h

    def set_current(self, item_id: int) -> None:
        if self.swipe_on:
            self.toggle_swipe()
        self.current_id = item_id
        for pid, pane in self.panes.items():
            pane.set_current(pid == item_id)

    def master_view(self):
        return next(iter(self.panes.values())).view if self.panes else None

    def _fit_if_wanted(self) -> None:
        if self.fit_mode:
            self.zoom_fit()

    def zoom_fit(self) -> None:
        self.fit_mode = True
        view, ref = self.master_view(), self.session.reference_size()
        if view is not None and ref:
            # every pane's whole image: another shape may be taller than the reference
            shapes = [g for g in (self.session.geometry(i) for i in self.panes) if g is not None]
            w = max([ref[0]] + [g.w for g in shapes])
            h = max([ref[1]] + [g.h for g in shapes])
            view.setRange(xRange=(0, w), yRange=(0, h), padding=0)

    def set_zoom(self, factor: float) -> None:
        """factor: screen pixels per reference pixel, kept centred on the current view."""
        self.fit_mode = False
        view = self.master_view()
        if view is None:
            return
        factor = min(max(factor, 1 / 64), 32.0)
        (x0, x1), (y0, y1) = view.viewRange()
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        half_w, half_h = view.width() / factor / 2, view.height() / factor / 2
        view.setRange(xRange=(cx - half_w, cx + half_w), yRange=(cy - half_h, cy + half_h), padding=0)

    def zoom_by(self, ratio: float) -> None:
        pane = next(iter(self.panes.values()), None)
        if pane is not None:
            self.set_zoom(pane.zoom_factor() * ratio)

    def _update_zoom_label(self) -> None:
        pane = next(iter(self.panes.values()), None)
        if pane is not None:
            self.zoom_label.setText(f"zoom {pane.zoom_factor() * 100:.0f}%")

    def _relayout_if_shape_changed(self) -> None:
        cols = grid_columns(len(self.panes), self.session.reference_size(), self.grid_host.width(),
                            self.grid_host.height())
        if cols != getattr(self, "_columns", None):
            self._relayout()

    def flicker(self, on: bool) -> None:
        """Show the reference's pixels in the current pane while on."""
        pane = self.panes.get(self.current_id) if self.current_id else None
        ref_pane = self.panes.get(self.session.reference_id) if self.session.reference_id else None
        if pane is None or ref_pane is None or ref_pane.display is None:
            return
        self.flickering = on
        pane.show_other(ref_pane.display if on else None)

    def toggle_swipe(self) -> None:
        pane = self.panes.get(self.current_id) if self.current_id else None
        ref_pane = self.panes.get(self.session.reference_id) if self.session.reference_id else None
        if pane is None:
            return
        self.swipe_on = not self.swipe_on and ref_pane is not None and ref_pane is not pane
        pane.set_swipe(ref_pane.display if self.swipe_on else None)

    def close_current(self) -> None:
        if self.current_id is not None:
            self.session.remove_item(self.current_id)

    def make_current_reference(self) -> None:
        if self.current_id is not None and self.session.items[self.current_id].status == "ready":
            self.session.set_reference(self.current_id)   # chosen: metrics against it are shown (its listener
            # schedules the analysis)

    def _set_display(self, exposure: float | None = None, gamma: float | str | None = "keep") -> None:
        if exposure is not None:
            self.session.set_display(exposure=float(exposure))
        if gamma != "keep":
            self.session.set_display(gamma=gamma)
        self._display_timer.start()

    def _refresh_all_displays(self) -> None:
        if self.analysis_mode != "image":
            self._refresh_analysis_displays()
            return
        for item in self.session.items.values():
            if item.image is not None:
                self._refresh_display(item)

    def _refresh_display(self, item: PaneItem) -> None:
        if self.analysis_mode != "image":
            self._refresh_analysis_displays()
            return
        image, exposure, gamma = item.image, self.exposure, self.gamma
        apply_gamma = gamma if image.linear else None
        self.bridge.submit(lambda: image.to_display(exposure, apply_gamma),
                           lambda disp, i=item.id: self._apply_display(i, disp), key=("display", item.id))

    def _apply_display(self, item_id: int, display: np.ndarray) -> None:
        pane = self.panes.get(item_id)
        item = self.session.items.get(item_id)
        if pane is None or item is None:
            return
        pane.set_display(display, self._rect_for(item_id, display))
