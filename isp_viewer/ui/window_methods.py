"""Running methods on the current input: the Run-methods dock (baselines and the network
panel), LibRaw/classical/network panes (no duplicates), and the MOS study dock's stimuli."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QFormLayout,
    QGridLayout,
    QLabel,
    QWidget,
)

from isp_viewer.core.errors import IspViewerError
from isp_viewer.core.methods import DEMOSAIC_ALGORITHMS, ClassicalMethod, LibRawOptions, NetworkMethod
from isp_viewer.core.region import Region
from isp_viewer.export import method_images as methods
from isp_viewer.io.raw import RawMosaic


class MethodRunner:
    """Part of MainWindow (ui.main_window), which holds the state these methods share."""

    def _build_models_dock(self) -> None:
        """Networks (through the engine: tiled, cancellable, cached) and LibRaw/classical baselines."""
        from PySide6.QtWidgets import QCheckBox, QGroupBox, QHBoxLayout, QPushButton, QVBoxLayout

        host = QWidget()
        layout = QVBoxLayout(host)
        box = QGroupBox("Baselines")
        grid = QGridLayout(box)
        self.baseline_boxes: dict[str, QCheckBox] = {}
        names = [f"LibRaw {a}" for a in DEMOSAIC_ALGORITHMS] + ["Bilinear", "Malvar-He-Cutler", "Menon 2007"]
        for i, name in enumerate(names):
            check = QCheckBox(name)
            self.baseline_boxes[name] = check
            grid.addWidget(check, i // 3, i % 3)
        run_baselines = QPushButton("Add checked baselines")
        run_baselines.clicked.connect(self.run_checked_baselines)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(run_baselines)
        grid.addLayout(row, len(names) // 3 + 1, 0, 1, 3)
        layout.addWidget(box)
        # The network panel imports torch (seconds): a placeholder holds its place until first use
        # or until load_models_in_background() has imported it on a worker (see app.py).
        self._models = None
        self._models_layout = layout
        self._models_placeholder = QLabel("Loading the network list…")
        self._models_placeholder.setAlignment(Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self._models_placeholder, 1)
        from isp_viewer.ui import sr_tools

        self.sr_tools = sr_tools.install(self, layout)
        dock = QDockWidget("Run methods", self)
        dock.setObjectName("models")
        dock.setWidget(host)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)

    @property
    def models(self):
        """The network panel (ui.model_panel.ModelPanel), built here on first use."""
        if self._models is None:
            from isp_viewer.ui.model_panel import ModelPanel

            panel = ModelPanel(source_provider=self.current_source)
            panel.run_button.clicked.connect(self.run_checked_baselines)
            panel.result_ready.connect(self._network_result)
            panel.job_failed.connect(lambda mid, msg: self.statusBar().showMessage(f"{mid}: {msg}", 10000))
            self._models_layout.replaceWidget(self._models_placeholder, panel)
            self._models_placeholder.deleteLater()
            self._models = panel
            if (source := self.current_source()) is not None:
                panel.set_source(source)
        return self._models

    def load_models_in_background(self) -> None:
        """Import the network panel and torch on a worker, then build the panel on the GUI thread."""
        import importlib

        self.bridge.submit(lambda: importlib.import_module("isp_viewer.ui.model_panel"),
                           lambda _module: None if self.bridge.closed else self.models)

    def _set_models_source(self, source) -> None:
        if self._models is not None:   # otherwise the panel takes current_source() when it is built
            self._models.set_source(source)

    def run_checked_baselines(self) -> list[int]:
        """Add a pane for every ticked baseline (LibRaw on camera RAW, classical on any mosaic)."""
        source = self.current_source()
        ids = []
        for name, check in self.baseline_boxes.items():
            if not check.isChecked():
                continue
            if name.startswith("LibRaw "):
                if isinstance(source, RawMosaic) and source.meta.get("raw_type") == "Flat":
                    ids.append(self.add_libraw(source, LibRawOptions(name.split()[1], "camera", "srgb", 16)))
                else:
                    self.statusBar().showMessage("LibRaw baselines need a camera RAW file", 8000)
            else:
                algo = {"Bilinear": "bilinear", "Malvar-He-Cutler": "malvar", "Menon 2007": "menon"}[name]
                item_id = self.add_classical(algo, source)
                if item_id is not None:
                    ids.append(item_id)
        return ids

    def _network_result(self, result) -> None:
        options = dict(result.image.meta.get("options") or {})   # e.g. noise_sigma, so a reopen reruns the same
        item = self.session.add_item(result.label, getattr(result.source, "path", ""),
                                     NetworkMethod(result.model_id, str(result.weights or ""),
                                                   engine={"options": options} if options else {}))
        self._set_ready(item.id, result.image, result.label)

    def _build_study_dock(self) -> None:
        """MOS studies: crops come from kept ROIs; stimuli are crops of the panes' images."""

        from isp_viewer.study.store import StudyStore
        from isp_viewer.ui.study_panel import StudyPanel

        default = Path.home() / ".local/share/isp-viewer/study.sqlite"
        db = Path(os.environ.get("ISPV_STUDY_DB", default))
        db.parent.mkdir(parents=True, exist_ok=True)
        self.study_store = StudyStore(db)
        self.study = StudyPanel(self.study_store, self.study_stimulus, [])
        from PySide6.QtWidgets import QScrollArea

        dock = QDockWidget("MOS study", self)
        dock.setObjectName("study")
        scroll = QScrollArea()          # its design form is wide: scroll rather than widen the dock
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.study)
        dock.setWidget(scroll)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.tabifyDockWidget(self.findChild(QDockWidget, "analysis"), dock)
        self.findChild(QDockWidget, "analysis").raise_()

    def study_stimulus(self, method_id: str, region: Region) -> np.ndarray:
        """Pixels of one pane inside a reference-grid region (outputs of another size are mapped)."""
        item = self.session.items.get(int(method_id))
        ref = self.session.reference_size()
        if item is None or item.image is None or ref is None:
            raise IspViewerError(f"method {method_id} is no longer open")
        img = item.image
        sx, sy = img.width / ref[0], img.height / ref[1]
        scaled = Region(int(round(region.x * sx)), int(round(region.y * sy)),
                        max(1, int(round(region.w * sx))), max(1, int(round(region.h * sy))))
        crop = img.with_data(scaled.clip_to(img.width, img.height).crop(img.data))   # per-pixel: crop first
        return crop.to_display(self.exposure, self.gamma if img.linear else None).astype(np.float32) / 255.0

    def _refresh_study_methods(self) -> None:
        methods = [(str(i), it.label) for i, it in self.session.items.items() if it.status == "ready"]
        self.study.set_methods(methods)

    def current_source(self):
        item = self.session.items.get(self.current_id) if self.current_id else None
        candidates = [item.source_path] if item else []
        candidates += [i.source_path for i in self.session.items.values()]
        for path in candidates:
            if path in self.session.sources:
                return self.session.sources[path]
        for src in self.session.sources.values():
            return src
        return None

    def add_libraw_dialog(self) -> None:
        source = self.current_source()
        if not isinstance(source, RawMosaic) or source.meta.get("raw_type") != "Flat":
            self.show_error("LibRaw renderings need a camera RAW file; open one first")
            return
        dialog = LibRawDialog(self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.add_libraw(source, dialog.options())

    def add_libraw(self, source: RawMosaic, options: LibRawOptions) -> int:
        if (same := self.session.find_same(source.path, options)) is not None:
            self.set_current(same.id)   # already shown (e.g. the default AHD rendering): no second pane
            return same.id
        item = self.session.add_item(options.short_label, source.path, options)
        self.bridge.submit(lambda: methods.render_libraw_image(source.path, options),
                           lambda img, i=item.id: self._set_ready(
                               i, img, f"{Path(source.path).name} · {options.label}"),
                           lambda err, i=item.id: self._failed(i, err))
        return item.id

    def add_classical(self, algorithm: str, source=None) -> int | None:
        source = source or self.current_source()
        if not isinstance(source, RawMosaic):
            self.show_error("Classical demosaicking needs a mosaic: open a RAW file, or the demo")
            return None
        method = ClassicalMethod(algorithm, source.cfa if len(source.cfa) == 4 else "RGGB")
        if (same := self.session.find_same(source.path, method)) is not None:
            self.set_current(same.id)
            return same.id
        item = self.session.add_item(algorithm, source.path, method)
        self.bridge.submit(lambda: methods.classical_image(source, algorithm),
                           lambda img, i=item.id: self._set_ready(i, img, img.label),
                           lambda err, i=item.id: self._failed(i, err))
        return item.id

    def add_network(self, model_id: str, source=None, weights: str | None = None) -> int | None:
        source = source or self.current_source()
        if source is None:
            self.show_error("Open an input first")
            return None
        item = self.session.add_item(model_id, getattr(source, "path", ""), NetworkMethod(model_id, str(weights or "")))
        ref = self.session.reference
        reference = ref.image if ref is not None else None
        self.bridge.submit(lambda: methods.network_image(model_id, source, weights, reference),
                           lambda img, i=item.id: self._set_ready(i, img, img.label),
                           lambda err, i=item.id: self._failed(i, err))
        return item.id


class LibRawDialog(QDialog):
    """Choose a LibRaw rendering: demosaic algorithm, white balance, output, bits."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add LibRaw rendering")
        form = QFormLayout(self)
        self.demosaic = QComboBox()
        self.demosaic.addItems(list(DEMOSAIC_ALGORITHMS))
        self.demosaic.setCurrentText("AHD")
        self.wb = QComboBox()
        self.wb.addItems(["camera", "auto", "none"])
        self.output = QComboBox()
        self.output.addItems(["srgb", "linear"])
        self.bits = QComboBox()
        self.bits.addItems(["16", "8"])
        form.addRow("Demosaic", self.demosaic)
        form.addRow("White balance", self.wb)
        form.addRow("Output", self.output)
        form.addRow("Bits", self.bits)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def options(self) -> LibRawOptions:
        return LibRawOptions(self.demosaic.currentText(), self.wb.currentText(), self.output.currentText(),
                             int(self.bits.currentText()))
