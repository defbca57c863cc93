"""Dataset mode's matrix: run the data-set matrix (isp_viewer.matrix) in a worker with progress,
Cancel and resume, show it in the matrix table, open a cell zoomed to its worst region, and keep
the worst regions as ROIs.

The results store lives next to the data set (the matrix's own default-store rule, as
`isp-viewer eval` uses it), or in the user cache when that folder is read-only, so a second
compute reads every finished cell back and computes only the missing ones.
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QDockWidget

from isp_viewer.core.region import Region

WORST_REGIONS = {"error": "absolute", "window": 64, "k": 4}


def matrix_store_path(inputs_dir: str | Path) -> Path:
    """The dataset's store: inside its inputs folder, else in the user cache's matrix folder
    (a subfolder, which the engine's result cache never clears)."""
    from isp_viewer.engine.cache import default_cache_dir
    from isp_viewer.matrix.command import default_store

    return default_store(inputs_dir, default_cache_dir() / "matrix" / "table")


class _Progress(QObject):
    """Carries run_matrix's progress (called in the worker) to the GUI thread."""

    moved = Signal(int, int, int)


class MatrixMode:
    """Part of MainWindow through DatasetMode; state: matrix_view, matrix_result, matrix_cancel."""

    matrix_view = None
    matrix_result = None
    matrix_cancel: threading.Event | None = None
    matrix_cell: tuple[str, str] | None = None   # the opened (image, method)
    _matrix_focus: Region | None = None          # to zoom to once the opened image's panes are ready

    def matrix_table(self):
        """The matrix table in its dock (made on first use), bound to this window."""
        if self.matrix_view is None:
            from isp_viewer.ui.matrix_table import MatrixTable

            view = MatrixTable()
            dock = QDockWidget("Dataset matrix", self)
            dock.setObjectName("matrix")
            dock.setWidget(view)
            self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
            view.compute_requested.connect(self.compute_matrix)
            view.cancel_requested.connect(self.cancel_matrix)
            view.cell_opened.connect(self.open_matrix_cell)
            view.keep_requested.connect(self.keep_matrix_regions)
            self.session.item_changed.connect(lambda _item: self._focus_when_ready())
            self.matrix_view, self.matrix_dock = view, dock
        self.matrix_dock.show()
        return self.matrix_view

    def reset_matrix(self) -> None:
        """A new data set: an empty table (its store is read on the first compute)."""
        view = self.matrix_table()
        self.matrix_result, self.matrix_cell, self._matrix_focus = None, None, None
        view.set_cells([], [], [], [])
        view.keep_button.setEnabled(False)
        view.status.setText("Compute the table: every method of the panes on every image of the set")

    def compute_matrix(self) -> None:
        """Every current method on every pair, in the background; only cells the store lacks run."""
        if not getattr(self, "dataset", None):
            self.show_error("Open a dataset first (File › Open dataset)")
            return
        if self.matrix_cancel is not None:
            return   # a run is under way
        from isp_viewer.matrix import RegionSpec, recipe_spec

        view = self.matrix_table()
        ds, conv, recipe = self.dataset, self.analysis.current_convention(), self._current_recipe()
        store_path = matrix_store_path(ds["inputs"])
        cancel = self.matrix_cancel = threading.Event()
        progress = _Progress(self)
        progress.moved.connect(lambda d, n, t: view.set_progress(d, n, t))
        view.set_running(True, len(ds["pairs"]) * len(recipe))
        view.status.setText(f"planning {len(ds['pairs'])} images × {len(recipe)} methods…")

        def run():
            spec = recipe_spec(ds["pairs"], recipe, conv, simulate_cfa=ds["cfa"],
                               regions=(RegionSpec(**WORST_REGIONS),))
            return run_and_read(spec, store_path, cancel, lambda p: progress.moved.emit(
                p.done, p.to_compute, p.total_tasks))

        self.bridge.submit(run, self._show_matrix, self._matrix_failed)

    def cancel_matrix(self) -> None:
        if self.matrix_cancel is not None:
            self.matrix_cancel.set()
            self.matrix_view.status.setText("cancelling after the run in progress…")

    def _matrix_failed(self, err: BaseException) -> None:
        self.matrix_cancel = None
        self.matrix_view.set_running(False)
        self.matrix_view.status.setText(f"failed: {err}")
        self.show_error(f"dataset table: {err}")

    def _show_matrix(self, result: dict) -> None:
        self.matrix_cancel = None
        self.matrix_view.set_running(False)
        if [i.stem for i in result["spec"].items] != [stem for stem, _i, _r in self.dataset["pairs"]]:
            return   # another data set was opened while this one ran: its cells stay in its store
        self.matrix_result = result
        spec, summary, view = result["spec"], result["summary"], self.matrix_view
        view.set_cells(result["rows"], [i.stem for i in spec.items], [m.label for m in spec.methods], spec.metrics)
        if summary is None:
            view.status.setText(f"cancelled: {len(result['rows'])} cells stored; compute again to finish")
        else:
            view.progress.setValue(view.progress.maximum())
            view.status.setText(f"{summary.total_tasks} runs: {len(summary.computed)} computed in "
                                f"{summary.seconds:.1f} s, {summary.total_tasks - len(summary.computed)} read "
                                f"from {result['store']}")
        self._show_dataset_table(result["table"])

    # ---------------------------------------------------------------- cells
    def open_matrix_cell(self, image: str, method: str) -> None:
        """That image with every method in the linked panes, zoomed to the cell's worst region."""
        result = self.matrix_result
        stems = [stem for stem, _i, _r in self.dataset["pairs"]]
        if result is None or image not in stems:
            return
        regions = result["regions"].get((image, method), [])
        self.matrix_cell = (image, method)
        self._matrix_focus = regions[0].region if regions else None
        self.matrix_view.keep_button.setEnabled(bool(regions))
        self.show_dataset_item(stems.index(image))

    def matrix_cell_regions(self) -> list[Region]:
        if self.matrix_result is None or self.matrix_cell is None:
            return []
        return [w.region for w in self.matrix_result["regions"].get(self.matrix_cell, [])]

    def _focus_when_ready(self) -> None:
        """Once every pane of the opened image is ready: ROI on the worst region, view zoomed to it."""
        region, items = self._matrix_focus, list(self.session.items.values())
        if region is None or self.session.reference_size() is None:
            return
        if any(i.status == "loading" for i in items) or len(items) < 1 + len(self.dataset["recipe"]):
            return
        self._matrix_focus = None
        QTimer.singleShot(0, lambda: self.zoom_to_region(region))

    def zoom_to_region(self, region: Region) -> None:
        view = self.master_view()
        if view is None:
            return
        self.session.set_roi(region)
        zoom = 0.6 * min(view.width() / region.w, view.height() / region.h)
        cx, cy = region.x + region.w / 2, region.y + region.h / 2
        self.session.set_viewport(cx, cy, zoom)
        label = self.matrix_cell[1] if self.matrix_cell else ""
        for item in self.session.items.values():   # the clicked method's pane becomes the current one
            name = getattr(item.method, "algorithm", None) or getattr(item.method, "model_id", None)
            if name and label.split(" ")[0] == name:
                self.set_current(item.id)

    def keep_matrix_regions(self) -> None:
        """The opened cell's worst regions become kept ROIs, through the window's keep-ROI path."""
        regions = self.matrix_cell_regions()
        for region in regions:
            self.keep_roi(region)
        if regions:
            self.session.set_roi(regions[0])
            self.matrix_view.status.setText(f"kept {len(regions)} worst regions of {' / '.join(self.matrix_cell)}")


def run_and_read(spec, store_path: Path, cancel: threading.Event, progress) -> dict:
    """Run the matrix into its store (in a worker) and read back what the window shows: the cells,
    each cell's worst regions and the MetricTable; summary None when the run was cancelled."""
    from concurrent.futures import CancelledError

    from isp_viewer.matrix import ResultStore, cell_regions, list_cells, metric_table, run_matrix

    with ResultStore(store_path) as store:
        try:
            summary = run_matrix(spec, store, progress=progress, cancel=cancel)
        except CancelledError:
            summary = None
        regions = {(t.item.stem, t.method.label): cell_regions(spec, store, t.key) for t in spec.all_tasks()}
        return {"spec": spec, "summary": summary, "rows": list_cells(spec, store), "store": str(store_path),
                "regions": {k: v for k, v in regions.items() if v}, "table": metric_table(spec, store)}
