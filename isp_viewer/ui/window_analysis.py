"""Analysis bound to the session: view modes (error maps, FFT) in every pane, the metrics
table and spectra (session.metric_rows / spectra), the ROI (session.roi) and the pixel inspector."""

from __future__ import annotations

import math

from PySide6.QtWidgets import QTableWidgetItem

from isp_viewer.core.methods import LibRawOptions
from isp_viewer.core.region import Region
from isp_viewer.io.raw import RawMosaic
from isp_viewer.ui import analysis_jobs


class AnalysisControls:
    """Part of MainWindow (ui.main_window), which holds the state these methods share."""

    def set_analysis_mode(self, mode: str) -> None:
        """Images, error maps against the reference, or spectra: every pane switches together."""
        self.session.set_display(mode=mode)
        if mode == "image":   # the titles lose the analysis captions; the pixels come from the refresh below
            for item in self.session.items.values():
                pane = self.panes.get(item.id)
                if pane is not None and item.status != "error":
                    pane.set_title(item.label, item.id == self.session.reference_id)
        self._refresh_all_displays()

    def _refresh_analysis_displays(self) -> None:
        ref = self.session.reference
        images = {i: it.image for i, it in self.session.items.items() if it.image is not None}
        if ref is None or ref.image is None or not images:
            return
        mode, ref_image = self.analysis_mode, ref.image
        for pane in self.panes.values():
            pane.set_busy(True)
        self.bridge.submit(lambda: analysis_jobs.analysis_displays(mode, ref_image, images),
                           self._apply_analysis_displays, lambda err: self.show_error(str(err)),
                           key="analysis displays")

    def _apply_analysis_displays(self, result: dict) -> None:
        if self.analysis_mode == "image":
            return   # back to images meanwhile
        ref = self.session.reference_size()
        for item_id, shown in result.items():
            pane, item = self.panes.get(item_id), self.session.items.get(item_id)
            if pane is None or item is None or ref is None:
                continue
            pane.set_busy(False)
            pane.set_display(shown.display, self._rect_for(item_id, shown.display))
            pane.set_title(f"{item.label} — {shown.caption}", item_id == self.session.reference_id)
        self.analysis.show_displays(result)

    def schedule_analysis(self) -> None:
        self._analysis_timer.start()

    def roi_region(self) -> Region | None:
        return self.session.roi

    def _run_analysis(self) -> None:
        ref = self.session.reference
        if ref is None or ref.image is None:
            return
        images = {i: it.image for i, it in self.session.items.items() if it.image is not None and it.status == "ready"}
        labels = {i: self.session.items[i].label for i in images}
        conv, region, ref_id = self.analysis.current_convention(), self.roi_region(), ref.id
        role = analysis_jobs.reference_role(ref.method, self.session.reference_chosen)
        chosen = self.analysis.chosen_metrics()

        def compute():
            rows = analysis_jobs.metric_rows(ref_id, images, labels, conv, region, role, chosen)
            spectra = analysis_jobs.radial_spectra(images, labels, region)
            return rows, spectra

        self.bridge.submit(compute, lambda res: self._apply_analysis(region, res),
                           lambda err: self.statusBar().showMessage(f"analysis failed: {err}", 8000), key="analysis")

    def _apply_analysis(self, region: Region | None, result) -> None:
        rows, spectra = result
        self._analysis_region = region
        self.session.set_analysis({row.item_id: row for row in rows}, spectra)

    def _show_analysis(self) -> None:
        """The table and the spectra show the session's results (a closed pane's are gone)."""
        region = getattr(self, "_analysis_region", None)
        text = f"ROI x {region.x}, y {region.y}, {region.w}×{region.h} px" if region else ""
        self.analysis.set_rows(list(self.session.metric_rows.values()), text)
        self.analysis.set_spectra(list(self.session.spectra.values()))

    def set_roi_enabled(self, on: bool) -> None:
        ref = self.session.reference_size()
        if not on:
            self._last_roi = self.session.roi or self._last_roi
            self.session.set_roi(None)
        elif self.session.roi is None and ref:
            if self._last_roi is None:
                (x0, x1), (y0, y1) = self.master_view().viewRange()
                cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
                w = h = max(16, int(min(x1 - x0, y1 - y0) / 3))
                self._last_roi = Region(int(cx - w / 2), int(cy - h / 2), w, h)
            self.session.set_roi(self._last_roi)

    def set_roi(self, rect: tuple[float, float, float, float]) -> None:
        """Move the ROI (reference-grid pixels) in every pane and recompute."""
        x, y, w, h = (int(round(v)) for v in rect)
        self.session.set_roi(Region(x, y, max(w, 1), max(h, 1)))

    def _on_roi_changed(self, region: Region | None) -> None:
        """Every pane shows the session's ROI (clamped to the image there), the toggle follows it."""
        rect = None if region is None else tuple(float(v) for v in region.as_tuple())
        for pane in self.panes.values():
            pane.show_roi(rect)
        if self.analysis.roi.isChecked() != (region is not None):
            self.analysis.roi.blockSignals(True)
            self.analysis.roi.setChecked(region is not None)
            self.analysis.roi.blockSignals(False)
        self.schedule_analysis()

    def _on_mouse_moved(self, x: float, y: float) -> None:
        for pane in self.panes.values():
            pane.set_crosshair(x, y)
        self.coord_label.setText(f"x {int(math.floor(x))}  y {int(math.floor(y))}")
        self.update_inspector(int(math.floor(x)), int(math.floor(y)))

    def inspector_values(self, x: int, y: int) -> list[tuple[str, str, str, str]]:
        """(pane label, value, normalised value, what the pane shows there: error, log-amplitude,
        phase, or "" for images) at reference pixel (x, y) for every pane."""
        rows = []
        ref = self.session.reference_size()
        for item in self.session.items.values():
            if item.image is None or ref is None:
                continue
            img = item.image
            g = self.session.geometry(item.id)
            ix, iy = int(x * img.width / g.w), int(y * img.height / g.h)
            if not (0 <= ix < img.width and 0 <= iy < img.height):
                continue
            v = img.data[iy, ix]
            norm = " ".join(f"{c:.4f}" for c in v)
            raw_value = ""
            source = self.session.sources.get(item.source_path)
            if (isinstance(source, RawMosaic) and isinstance(item.method, LibRawOptions)
                    and 0 <= iy < source.height and 0 <= ix < source.width):
                period = source.cfa_indices.shape[0]
                letter = source.cfa[(iy % period) * period + ix % period]
                raw_value = f"raw {letter} {int(source.mosaic[iy, ix])}"
            scale = 65535 if img.meta.get("bits") == 16 else 255
            value = raw_value or " ".join(str(int(round(c * scale))) for c in v)
            shown = self.analysis.shown_value(item.id, x + 0.5, y + 0.5, ref) if self.analysis_mode != "image" else ""
            rows.append((item.label, value, norm, shown))
        return rows

    def update_inspector(self, x: int, y: int) -> None:
        rows = self.inspector_values(x, y)
        self.inspector.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.inspector.setItem(r, c, QTableWidgetItem(text))

    def keep_roi(self, region: Region | None = None) -> None:
        """Keep `region` (default: the live ROI) for figures and MOS crops."""
        region = region or self.roi_region()
        if region is None:
            self.show_error("Turn the ROI on (Analysis › Region of interest) and place it first")
            return
        if self.session.keep_roi(region):
            self.study.add_crop(region)
        self.statusBar().showMessage(f"kept ROI {len(self.kept_rois)}: x {region.x}, y {region.y}, "
                                     f"{region.w}×{region.h}", 5000)
