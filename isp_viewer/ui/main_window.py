"""The main window: linked panes, inspector, display controls, menus."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import QEvent, QSettings, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractSpinBox, QApplication, QComboBox, QDialog, QDialogButtonBox, QDockWidget, QDoubleSpinBox, QFileDialog, QFormLayout,
    QGridLayout, QLabel, QLineEdit, QMainWindow, QMessageBox, QTableWidget, QTableWidgetItem, QWidget,
)

from isp_viewer.core.errors import IspViewerError
from isp_viewer.core.image import Image
from isp_viewer.core.session import PaneItem, Session, pane_geometry
from isp_viewer.core.methods import (DEFAULT_RENDER, DEMOSAIC_ALGORITHMS, ClassicalMethod, FileMethod, LibRawOptions,
                                     NetworkMethod)
from isp_viewer.io.raw import RAW_SUFFIXES, RawMosaic
from isp_viewer.matrix import evaluate_recipe
from isp_viewer.metrics.evaluation import load_pair
from isp_viewer.core.region import Region
from isp_viewer.ui import analysis_jobs, methods
from isp_viewer.ui.analysis_panel import AnalysisPanel
from isp_viewer.ui.bridge import FutureBridge
from isp_viewer.ui.pane import ImagePane

MAX_PANES = 9
# ISPV_NATIVE_DIALOGS=0 asks for Qt's own file dialogs (what tests type into; also on desktops
# whose native dialog misbehaves).
DIALOG_OPTIONS = (QFileDialog.Option.DontUseNativeDialog if os.environ.get("ISPV_NATIVE_DIALOGS") == "0"
                  else QFileDialog.Option(0))
FILE_FILTER = ("Images, RAW and sessions (*.ispv *.dng *.cr2 *.cr3 *.nef *.arw *.raf *.orf *.rw2 *.pef *.srw *.kdc *.gpr *.x3f *.raw "
               "*.png *.tif *.tiff *.jpg *.jpeg *.bmp);;All files (*)")


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


class MainWindow(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("ISP Viewer")
        screen = QGuiApplication.primaryScreen()
        available = screen.availableGeometry() if screen is not None else None
        # The screen's available size: panes get the room (a fixed size left a third of it unused).
        self.resize(available.size() if available is not None and available.width() > 0 else QSize(1500, 950))
        self.setAcceptDrops(True)
        self.session = Session()
        self.bridge = FutureBridge(workers=2, parent=self)
        self.panes: dict[int, ImagePane] = {}
        self.current_id: int | None = None
        self.swipe_on = False
        self.flickering = False
        self.last_error = ""
        self._cursor = (0.0, 0.0)
        self.fit_mode = True   # keep fitting on resize until the user zooms or pans
        self._last_roi: Region | None = None   # where the ROI comes back when it is switched on again
        self._analysis_generation = 0
        self._display_generation = 0
        self._build_central()
        self._build_docks()
        self._build_menus()
        self.statusBar().showMessage("Open RAW files or images (Ctrl+O), or drop them here")
        self.zoom_label = QLabel("")
        self.coord_label = QLabel("")
        self.statusBar().addPermanentWidget(self.coord_label)
        self.statusBar().addPermanentWidget(self.zoom_label)
        self.session.item_added.connect(self._on_item_added)
        self.session.item_changed.connect(self._on_item_changed)
        self.session.item_removed.connect(self._on_item_removed)
        self.session.reference_changed.connect(lambda _id: self._on_reference_changed())
        self.session.roi_changed.connect(self._on_roi_changed)
        # Space is held over a pane, whose view would eat the key: watch it application-wide.
        QApplication.instance().installEventFilter(self)
        self.session.viewport_changed.connect(self._apply_viewport)
        self.session.analysis_changed.connect(self._show_analysis)

    # ---------------------------------------------------------------- state lives in the session
    @property
    def exposure(self) -> float:
        return self.session.display.exposure

    @property
    def gamma(self) -> float | None:
        return self.session.display.gamma

    @property
    def analysis_mode(self) -> str:
        return self.session.display.mode

    @property
    def kept_rois(self) -> list[Region]:
        return self.session.kept_rois

    @property
    def roi(self) -> tuple[float, float, float, float] | None:
        r = self.session.roi
        return None if r is None else tuple(float(v) for v in r.as_tuple())

    # ---------------------------------------------------------------- layout
    def _build_central(self) -> None:
        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setContentsMargins(2, 2, 2, 2)
        self.grid.setSpacing(3)
        self.setCentralWidget(self.grid_host)

    def _build_docks(self) -> None:
        self.inspector = QTableWidget(0, 4)
        self.inspector.setHorizontalHeaderLabels(["pane", "value", "normalised", "shown"])
        self.inspector.horizontalHeader().setStretchLastSection(True)
        self.inspector.verticalHeader().setVisible(False)
        dock = QDockWidget("Pixel inspector", self)
        dock.setObjectName("inspector")
        dock.setWidget(self.inspector)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)

        display = QWidget()
        form = QFormLayout(display)
        self.exposure_box = QDoubleSpinBox()
        self.exposure_box.setRange(-8, 8)
        self.exposure_box.setSingleStep(0.25)
        self.exposure_box.setSuffix(" EV")
        self.gamma_box = QComboBox()
        self.gamma_box.addItems(["sRGB curve", "gamma 2.2", "gamma 1.8", "linear (1.0)"])
        form.addRow("Exposure", self.exposure_box)
        form.addRow("Display curve (linear images)", self.gamma_box)
        self._display_timer = QTimer(self, singleShot=True, interval=150)
        self._display_timer.timeout.connect(self._refresh_all_displays)
        self.exposure_box.valueChanged.connect(lambda v: self._set_display(exposure=v))
        self.gamma_box.currentIndexChanged.connect(lambda i: self._set_display(gamma=[None, 2.2, 1.8, 1.0][i]))
        dock = QDockWidget("Display", self)
        dock.setObjectName("display")
        dock.setWidget(display)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.docks_area = Qt.DockWidgetArea.RightDockWidgetArea

        self.analysis = AnalysisPanel()
        dock = QDockWidget("Analysis", self)
        dock.setObjectName("analysis")
        dock.setWidget(self.analysis)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.analysis.mode_changed.connect(self.set_analysis_mode)
        self.analysis.convention_changed.connect(self.schedule_analysis)
        self.analysis.roi_toggled.connect(self.set_roi_enabled)
        self._build_study_dock()
        self._build_models_dock()
        self._analysis_timer = QTimer(self, singleShot=True, interval=200)   # throttle recomputation
        self._analysis_timer.timeout.connect(self._run_analysis)

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
        item = self.session.add_item(result.label, getattr(result.source, "path", ""),
                                     NetworkMethod(result.model_id, str(result.weights or "")))
        self._set_ready(item.id, result.image, result.label)

    def _build_study_dock(self) -> None:
        """MOS studies: crops come from kept ROIs; stimuli are crops of the panes' images."""
        import os

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
        ref = self._reference_size()
        if item is None or item.image is None or ref is None:
            raise IspViewerError(f"method {method_id} is no longer open")
        img = item.image
        sx, sy = img.width / ref[0], img.height / ref[1]
        scaled = Region(int(round(region.x * sx)), int(round(region.y * sy)),
                        max(1, int(round(region.w * sx))), max(1, int(round(region.h * sy))))
        return np.array(scaled.clip_to(img.width, img.height).crop(img.to_display(self.exposure, self.gamma if img.linear else None)),
                        dtype=np.float32) / 255.0

    def _refresh_study_methods(self) -> None:
        methods = [(str(i), it.label) for i, it in self.session.items.items() if it.status == "ready"]
        self.study.set_methods(methods)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "&Open…", QKeySequence.StandardKey.Open, self.open_dialog)
        self._action(file_menu, "Open &session…", "Ctrl+Shift+O", self.open_session_dialog)
        self.recent_menu = file_menu.addMenu("Open &recent")
        self._fill_recent()
        self._action(file_menu, "Open &demo", None, self.open_demo)
        self._action(file_menu, "Open data&set (inputs + references)…", None, self.open_dataset_dialog)
        self._action(file_menu, "Dataset: &next image", "PgDown", lambda: self.step_dataset(+1))
        self._action(file_menu, "Dataset: &previous image", "PgUp", lambda: self.step_dataset(-1))
        self._action(file_menu, "Dataset: compute the &table over all images", None, self.compute_dataset_table)
        file_menu.addSeparator()
        self._action(file_menu, "&Save session…", QKeySequence.StandardKey.Save, self.save_session_dialog)
        self._action(file_menu, "&Export figure…", "Ctrl+E", self.export_figure_dialog)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", QKeySequence.StandardKey.Quit, self.close)

        view = self.menuBar().addMenu("&View")
        self._action(view, "&Fit", "F", self.zoom_fit)
        self._action(view, "1:1 pixels", "1", lambda: self.set_zoom(1.0))
        self._action(view, "Zoom &in", "=", lambda: self.zoom_by(2.0))
        self._action(view, "Zoom &out", "-", lambda: self.zoom_by(0.5))
        view.addSeparator()
        self._action(view, "Make current pane the &reference", "R", self.make_current_reference)
        self._action(view, "&Swipe current pane against reference", "S", self.toggle_swipe)
        view.addAction("(hold Space: flicker current pane to the reference)").setEnabled(False)
        self._action(view, "&Close current pane", "Ctrl+W", self.close_current)

        a = self.menuBar().addMenu("&Analysis")
        for i, mode in enumerate(analysis_jobs.MODES):
            from isp_viewer.ui.analysis_panel import MODE_LABELS

            self._action(a, MODE_LABELS[mode], f"Alt+{i}" if i < 10 else None, lambda m=mode: self.analysis.set_mode(m))
        a.addSeparator()
        self._action(a, "Region of interest on/off", "Ctrl+R", lambda: self.analysis.roi.toggle())
        self._action(a, "Keep this ROI for figures and studies", "Ctrl+K", self.keep_roi)

        m = self.menuBar().addMenu("&Methods")
        self._action(m, "Add &LibRaw rendering…", "Ctrl+L", self.add_libraw_dialog)
        for algo in ("bilinear", "malvar", "menon"):
            self._action(m, f"Add classical demosaic: {algo}", None, lambda a=algo: self.add_classical(a))

    def _action(self, menu, text: str, shortcut, slot: Callable[[], Any]) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        self.addAction(action)
        return action

    # ---------------------------------------------------------------- opening
    def open_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Open RAW files, images or a session", "", FILE_FILTER,
                                                options=DIALOG_OPTIONS)
        self.open_files(paths)

    def open_files(self, paths: list[str]) -> None:
        """Open images and RAW files as new panes; a session file (.ispv) replaces the panes."""
        from isp_viewer.ui.session_restore import is_session, open_session

        for path in [p for p in paths if is_session(p)][:1]:
            if open_session(self, path):
                self._remember_recent(path)
        for path in [p for p in paths if not is_session(p)][: MAX_PANES]:
            self.open_input(str(path))
            self._remember_recent(path)

    def open_input(self, path: str, method=None, label: str | None = None) -> int:
        """One opened file as a pane (RAW: LibRaw's default rendering; image: as it is)."""
        if method is None:
            method = DEFAULT_RENDER if Path(path).suffix.lower() in RAW_SUFFIXES else FileMethod()
        item = self.session.add_item(label or Path(path).name, str(path), method, is_input=True)
        self._open_preview_first(str(path), item.id)
        return item.id

    def open_session_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open session", "", "ISP Viewer session (*.ispv);;All files (*)",
                                              options=DIALOG_OPTIONS)
        if path:
            self.open_files([path])

    def _open_preview_first(self, path: str, item_id: int) -> None:
        """The quick preview on screen first, then the full decode: run side by side on a small
        machine they slow each other down, and the first pixels are what the user waits for."""
        def decode(_preview_failed=None) -> None:
            self.bridge.submit(lambda: methods.open_and_render(path), lambda res: self._opened(item_id, res),
                               lambda err: self._failed(item_id, err))

        def preview_ready(preview) -> None:
            self._show_preview(item_id, preview)
            decode()

        self.bridge.submit(lambda: methods.quick_preview_or_none(path), preview_ready, decode)

    def open_demo(self) -> None:
        """A comparison with known ground truth: a bundled photo, mosaicked, demosaicked."""
        ref_item = self.session.add_item("Demo reference (ground truth)", method=FileMethod(ground_truth=True))
        exposure = self.exposure

        def load():
            reference, mosaic = methods.demo_source()
            return reference, mosaic, reference.to_display(exposure, None)

        self.bridge.submit(load, lambda res: self._demo_ready(ref_item.id, res),
                           lambda err: self._failed(ref_item.id, err))

    def _demo_ready(self, ref_id: int, result) -> None:
        reference, mosaic, display = result
        if (pane := self.panes.get(ref_id)) is not None:
            pane.set_display(display, (reference.width, reference.height))   # the ground truth's pixels first
        self.session.sources[mosaic.path] = mosaic
        self._set_models_source(mosaic)
        self._set_ready(ref_id, reference, f"Reference: {Path(reference.source).name} (ground truth)")
        self.session.set_reference(ref_id)
        # The baselines and the network start after that paint: their imports (colour, torch) take
        # seconds of the workers' time and would hold up the ground truth's first frame.
        QTimer.singleShot(0, lambda: self._start_demo_methods(mosaic))

    def _start_demo_methods(self, mosaic: RawMosaic) -> None:
        if self.bridge.closed:
            return
        for algo in ("bilinear", "malvar", "menon"):
            self.add_classical(algo, mosaic)
        self.add_network("demosaicnet_bayer", mosaic)

    def _show_preview(self, item_id: int, preview: np.ndarray | None) -> None:
        item = self.session.items.get(item_id)
        if preview is None or item is None or item.status != "loading":
            return
        pane = self.panes[item_id]
        pane.set_display(preview, self._rect_for(item_id, preview, (preview.shape[1] * 2, preview.shape[0] * 2)))
        pane.set_title(f"{item.label} — preview, decoding…")
        if self.current_id is None or len(self.panes) == 1:
            pane.view.autoRange(padding=0)

    def _opened(self, item_id: int, result) -> None:
        source, image, label = result
        self.session.sources[image.source or self.session.items[item_id].source_path] = source
        self._set_models_source(source)
        self._set_ready(item_id, image, label)

    def _set_ready(self, item_id: int, image: Image, label: str) -> None:
        self.session.update_item(item_id, image=image, label=label, status="ready", message="")

    def _failed(self, item_id: int, err: BaseException) -> None:
        text = str(err) if isinstance(err, IspViewerError) else f"{type(err).__name__}: {err}"
        self.session.update_item(item_id, status="error", message=text)
        self.show_error(text)

    def show_error(self, text: str) -> None:
        """A non-modal dialog: the window keeps working while it is open."""
        self.last_error = text
        self.statusBar().showMessage(text, 15000)
        box = QMessageBox(QMessageBox.Icon.Warning, "ISP Viewer", text, QMessageBox.StandardButton.Ok, self)
        box.setModal(False)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.show()
        self.error_box = box

    # ---------------------------------------------------------------- dataset mode
    def open_dataset_dialog(self) -> None:
        from PySide6.QtWidgets import QInputDialog

        inputs = QFileDialog.getExistingDirectory(self, "Folder of inputs")
        if not inputs:
            return
        refs = QFileDialog.getExistingDirectory(self, "Folder of references (matched by file name)")
        if not refs:
            return
        cfa, ok = QInputDialog.getItem(self, "Inputs", "Inputs are", ["RGB: simulate a GRBG mosaic", "RGB: simulate an RGGB mosaic",
                                                                      "used as they are (RAW or images)"], 0, False)
        if ok:
            self.open_dataset(inputs, refs, cfa.split()[3] if cfa.startswith("RGB") else None)

    def open_dataset(self, inputs_dir: str, refs_dir: str, simulate_cfa: str | None = "GRBG") -> int:
        """Pair files by name and show the first pair; returns the number of pairs."""
        from isp_viewer.metrics import match_by_name

        try:
            pairs = match_by_name(inputs_dir, refs_dir)
        except IspViewerError as err:
            self.show_error(str(err))
            return 0
        self.dataset = {"pairs": pairs, "index": 0, "cfa": simulate_cfa, "recipe": list(methods.DEFAULT_DATASET_RECIPE)}
        self.show_dataset_item(0)
        return len(pairs)

    def _current_recipe(self) -> list[tuple[str, str]]:
        recipe = [("classical", it.method.algorithm) if isinstance(it.method, ClassicalMethod) else ("network", it.method.model_id)
                  for it in self.session.items.values() if isinstance(it.method, (ClassicalMethod, NetworkMethod))]
        return recipe or self.dataset["recipe"]

    def show_dataset_item(self, index: int) -> None:
        """Replace the panes with pair `index`: its reference plus the same methods as now."""
        ds = self.dataset
        ds["recipe"] = self._current_recipe() if self.session.items else ds["recipe"]
        ds["index"] = index % len(ds["pairs"])
        stem, input_path, ref_path = ds["pairs"][ds["index"]]
        for item_id in list(self.session.items):
            self.session.remove_item(item_id)
        self.session.sources.clear()
        self.session.set_reference(None)
        ref_item = self.session.add_item(f"{stem} · reference", str(ref_path), FileMethod(ground_truth=True))
        self.statusBar().showMessage(f"dataset image {ds['index'] + 1} / {len(ds['pairs'])}: {stem}", 8000)

        def ready(result, ref_id=ref_item.id):
            reference, source = result
            self.session.sources[str(input_path)] = source
            self._set_models_source(source)
            self._set_ready(ref_id, reference, f"{stem} · reference")
            self.session.set_reference(ref_id)
            for kind, name in ds["recipe"]:
                if kind == "classical":
                    self.add_classical(name, source)
                else:
                    self.add_network(name, source)

        self.bridge.submit(lambda: load_pair(input_path, ref_path, ds["cfa"]), ready,
                           lambda err, i=ref_item.id: self._failed(i, err))

    def step_dataset(self, step: int) -> None:
        if getattr(self, "dataset", None):
            self.show_dataset_item(self.dataset["index"] + step)

    def compute_dataset_table(self) -> None:
        """The metrics table over every pair, in the background, with progress in the status bar."""
        import threading

        if not getattr(self, "dataset", None):
            self.show_error("Open a dataset first (File › Open dataset)")
            return
        ds, conv = self.dataset, self.analysis.current_convention()
        recipe = self._current_recipe()
        self.dataset_cancel = threading.Event()
        progress = self._progress_bridge()

        self.bridge.submit(lambda: evaluate_recipe(ds["pairs"], recipe, conv, simulate_cfa=ds["cfa"],
                                                   progress=lambda d, n: progress.emit(d, n), cancel=self.dataset_cancel),
                           self._show_dataset_table, lambda err: self.show_error(f"dataset table: {err}"))

    def _progress_bridge(self):
        from PySide6.QtCore import QObject, Signal

        class Progress(QObject):
            moved = Signal(int, int)

            def emit(self, done: int, total: int) -> None:
                self.moved.emit(done, total)

        bridge = Progress(self)
        bridge.moved.connect(lambda d, n: self.statusBar().showMessage(f"dataset table: {d} / {n} images", 4000))
        return bridge

    def _show_dataset_table(self, table) -> None:
        self.dataset_result = table
        rows = []
        from isp_viewer.ui.analysis_jobs import MetricRow

        for m in table.methods:
            psnr, ssim = table.mean(m, "PSNR"), table.mean(m, "SSIM")
            note = f"mean ± std over {table.count(m, 'PSNR')} images: ±{table.std(m, 'PSNR'):.2f} dB, ±{table.std(m, 'SSIM'):.4f}"
            rows.append(MetricRow(-1, m, psnr, ssim, note))
        self.analysis.set_rows(rows, f"dataset of {len(table.images)} images")
        self.statusBar().showMessage(f"dataset table ready: {len(table.methods)} methods × {len(table.images)} images", 8000)

    # ---------------------------------------------------------------- session file and figures
    def session_doc(self, base_dir: Path):
        from isp_viewer.export.session_doc import build_doc

        conv = self.analysis.current_convention()
        convention = {"channel": conv.channel, "data_range": conv.data_range, "crop_border": conv.crop_border,
                      "quantize": conv.quantize_uint8, "name": conv.name}
        return build_doc(self.session, Path(base_dir), convention)

    def keep_roi(self) -> None:
        region = self.roi_region()
        if region is None:
            self.show_error("Turn the ROI on (Analysis › Region of interest) and place it first")
            return
        if self.session.keep_roi(region):
            self.study.add_crop(region)
        self.statusBar().showMessage(f"kept ROI {len(self.kept_rois)}: x {region.x}, y {region.y}, "
                                     f"{region.w}×{region.h}", 5000)

    def save_session(self, path: str | Path) -> Path:
        """Save now, and from then on autosave (debounced) to <path>.autosave on every change."""
        from isp_viewer.export.session_file import Autosaver, save

        path = Path(path)
        saved = save(self.session_doc(path.parent), path)
        if getattr(self, "autosaver", None) is None or self.session_path != path:
            self.session_path = path
            self.autosaver = Autosaver(path, delay_s=1.0, max_wait_s=5.0,
                                       schedule=lambda delay, cb: QTimer.singleShot(int(delay * 1000), cb))
            for event in (self.session.item_changed, self.session.item_removed, self.session.reference_changed):
                event.connect(lambda *_: self._autosave())
        return saved

    def _autosave(self) -> None:
        if getattr(self, "autosaver", None) is not None:
            try:
                self.autosaver.touch(self.session_doc(self.session_path.parent))
            except IspViewerError as err:
                self.statusBar().showMessage(f"autosave failed: {err}", 8000)

    def save_session_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save session", "comparison.ispv", "ISP Viewer session (*.ispv)")
        if path:
            try:
                self.save_session(path)
                self.statusBar().showMessage(f"saved {path}", 5000)
            except IspViewerError as err:
                self.show_error(str(err))

    def export_dialog_for(self, session_path: str | Path):
        """The figure dialog over this window's session (saved first, so the CLI can redo it)."""
        from isp_viewer.export.provider import SessionImageProvider
        from isp_viewer.export.session_file import load
        from isp_viewer.ui.export_dialog import ExportDialog

        path = self.save_session(session_path)
        doc = load(path)
        return ExportDialog(doc, SessionImageProvider(doc, path.parent), "figure", self)

    def export_figure_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the session the figure is made from", "comparison.ispv",
                                              "ISP Viewer session (*.ispv)")
        if not path:
            return
        try:
            self.export_dialog_for(path).show()
        except IspViewerError as err:
            self.show_error(str(err))

    # ---------------------------------------------------------------- methods
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
                           lambda img, i=item.id: self._set_ready(i, img, f"{Path(source.path).name} · {options.label}"),
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

    # ---------------------------------------------------------------- session → panes
    def _on_item_added(self, item: PaneItem) -> None:
        if len(self.panes) >= MAX_PANES:
            oldest = next(iter(self.panes))
            self.session.remove_item(oldest)
        pane = ImagePane(item.id)
        pane.set_title(item.label)
        pane.set_busy(True)
        pane.clicked.connect(self.set_current)
        pane.mouse_moved.connect(self._on_mouse_moved)
        pane.roi_moved.connect(self._on_roi_moved)
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
            first = self._reference_size() is None or item.id == self.session.reference_id
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
        cols = grid_columns(len(panes), self._reference_size(), self.grid_host.width(), self.grid_host.height())
        self._columns = cols
        for i, pane in enumerate(panes):
            self.grid.addWidget(pane, i // cols, i % cols)
            item = self.session.items.get(pane.item_id)
            if item:
                pane.set_title(item.label if item.status != "error" else f"{item.label} — failed",
                               pane.item_id == self.session.reference_id)
        if self._reference_size():
            for pane in panes:
                if pane.display is not None and self.session.geometry(pane.item_id) is not None:
                    rect = self._rect_for(pane.item_id, pane.display)
                    if pane.rect_size != rect:
                        pane.set_display(pane.display, rect)
        if panes:
            QTimer.singleShot(0, lambda: self.panes and self._sync_viewport(next(iter(self.panes.values()))))

    def _reference_size(self) -> tuple[int, int] | None:
        ref = self.session.reference
        if ref is None or ref.image is None:
            return None
        return ref.image.width, ref.image.height

    # ---------------------------------------------------------------- display
    def _set_display(self, exposure: float | None = None, gamma: float | None | str = "keep") -> None:
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

    def set_analysis_mode(self, mode: str) -> None:
        """Images, error maps against the reference, or spectra: every pane switches together."""
        self.session.set_display(mode=mode)
        if mode == "image":
            for item in self.session.items.values():
                self._on_item_changed(item)
        self._refresh_all_displays()

    def _refresh_analysis_displays(self) -> None:
        ref = self.session.reference
        images = {i: it.image for i, it in self.session.items.items() if it.image is not None}
        if ref is None or ref.image is None or not images:
            return
        self._display_generation += 1
        gen, mode, ref_image = self._display_generation, self.analysis_mode, ref.image
        for pane in self.panes.values():
            pane.set_busy(True)
        self.bridge.submit(lambda: analysis_jobs.analysis_displays(mode, ref_image, images),
                           lambda result: self._apply_analysis_displays(gen, result),
                           lambda err: self.show_error(str(err)))

    def _apply_analysis_displays(self, generation: int, result: dict) -> None:
        if generation != self._display_generation or self.analysis_mode == "image":
            return   # stale: the mode or the inputs changed meanwhile
        ref = self._reference_size()
        for item_id, shown in result.items():
            pane, item = self.panes.get(item_id), self.session.items.get(item_id)
            if pane is None or item is None or ref is None:
                continue
            pane.set_busy(False)
            pane.set_display(shown.display, self._rect_for(item_id, shown.display))
            pane.set_title(f"{item.label} — {shown.caption}", item_id == self.session.reference_id)
        self.analysis.show_displays(result)

    # ---------------------------------------------------------------- metrics, spectra, ROI
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
        self._analysis_generation += 1
        gen = self._analysis_generation

        def compute():
            rows = analysis_jobs.metric_rows(ref_id, images, labels, conv, region, role)
            spectra = analysis_jobs.radial_spectra(images, labels, region)
            return rows, spectra

        self.bridge.submit(compute, lambda res: self._apply_analysis(gen, region, res),
                           lambda err: self.statusBar().showMessage(f"analysis failed: {err}", 8000))

    def _apply_analysis(self, generation: int, region: Region | None, result) -> None:
        if generation != self._analysis_generation:
            return
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
        ref = self._reference_size()
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

    def _on_roi_moved(self, source_id: int, rect) -> None:
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

    def _refresh_display(self, item: PaneItem) -> None:
        if self.analysis_mode != "image":
            self._refresh_analysis_displays()
            return
        image, exposure, gamma = item.image, self.exposure, self.gamma
        apply_gamma = gamma if image.linear else None
        self.bridge.submit(lambda: image.to_display(exposure, apply_gamma),
                           lambda disp, i=item.id: self._apply_display(i, disp))

    def _apply_display(self, item_id: int, display: np.ndarray) -> None:
        pane = self.panes.get(item_id)
        item = self.session.items.get(item_id)
        if pane is None or item is None:
            return
        pane.set_display(display, self._rect_for(item_id, display))

    def _rect_for(self, item_id: int, display: np.ndarray, full_size: tuple[int, int] | None = None) -> tuple[float, float]:
        """(w, h) on the reference grid for a pane's pixels: the session's geometry (an integer
        scale of the reference covers it; any other shape keeps its own aspect)."""
        geometry = self.session.geometry(item_id)
        if geometry is None:
            size = full_size or (display.shape[1], display.shape[0])
            geometry = pane_geometry(size, self._reference_size() or size)
        return geometry.w, geometry.h

    # ---------------------------------------------------------------- navigation
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

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if not getattr(self, "_docks_sized", False):
            self._docks_sized = True   # docks take what they need; the panes get the rest
            docks = [self.findChild(QDockWidget, n) for n in ("models", "inspector", "display", "analysis")]
            QTimer.singleShot(0, lambda: self.resizeDocks(docks, [330, 380, 380, 380], Qt.Orientation.Horizontal))

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        QTimer.singleShot(0, self._relayout_if_shape_changed)
        QTimer.singleShot(0, self._fit_if_wanted)

    def _relayout_if_shape_changed(self) -> None:
        cols = grid_columns(len(self.panes), self._reference_size(), self.grid_host.width(), self.grid_host.height())
        if cols != getattr(self, "_columns", None):
            self._relayout()

    def zoom_fit(self) -> None:
        self.fit_mode = True
        view, ref = self.master_view(), self._reference_size()
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

    def _on_mouse_moved(self, x: float, y: float) -> None:
        self._cursor = (x, y)
        for pane in self.panes.values():
            pane.set_crosshair(x, y)
        self.coord_label.setText(f"x {int(math.floor(x))}  y {int(math.floor(y))}")
        self.update_inspector(int(math.floor(x)), int(math.floor(y)))

    def inspector_values(self, x: int, y: int) -> list[tuple[str, str, str, str]]:
        """(pane label, value, normalised value, what the pane shows there: error, log-amplitude,
        phase, or "" for images) at reference pixel (x, y) for every pane."""
        rows = []
        ref = self._reference_size()
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
            if isinstance(source, RawMosaic) and isinstance(item.method, LibRawOptions) and 0 <= iy < source.height and 0 <= ix < source.width:
                letter = source.cfa[(iy % source.cfa_indices.shape[0]) * source.cfa_indices.shape[0] + ix % source.cfa_indices.shape[0]]
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

    # ---------------------------------------------------------------- comparison tools
    def make_current_reference(self) -> None:
        if self.current_id is not None and self.session.items[self.current_id].status == "ready":
            self.session.set_reference(self.current_id)   # chosen: metrics against it are shown
            self.schedule_analysis()

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

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt naming)
        kind = event.type()
        if (kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease) and self.isActiveWindow()
                and event.key() == Qt.Key.Key_Space and not event.isAutoRepeat()
                and not isinstance(QApplication.focusWidget(), (QLineEdit, QAbstractSpinBox, QComboBox))):
            if isinstance(watched, QWidget) and watched.window() is self:
                self.flicker(kind == QEvent.Type.KeyPress)
                return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self.flicker(True)
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self.flicker(False)
            return
        super().keyReleaseEvent(event)

    # ---------------------------------------------------------------- drag and drop, recent
    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        self.open_files([p for p in paths if not self.is_checkpoint(p)])   # .ispv: reopens the session
        for path in filter(self.is_checkpoint, paths):
            self.use_checkpoint(path)

    @staticmethod
    def is_checkpoint(path: str) -> bool:
        from isp_viewer.models.loading import WEIGHT_SUFFIXES

        return path.lower().endswith(WEIGHT_SUFFIXES)

    def use_checkpoint(self, path: str) -> None:
        """A dropped checkpoint: recognise its network from keys and shapes (safely) and use it."""
        from isp_viewer.models.registry import detect_checkpoint

        def found(specs) -> None:
            if not specs:
                self.show_error(f"{Path(path).name}: its keys and shapes match none of the known networks")
                return
            for spec in specs:
                self.models.set_weights(spec.id, path)
            self.statusBar().showMessage(f"{Path(path).name}: {', '.join(s.name for s in specs)}", 10000)

        self.bridge.submit(lambda: detect_checkpoint(path), found, lambda err: self.show_error(str(err)))

    def _remember_recent(self, path: str) -> None:
        settings = QSettings("isp-viewer", "isp-viewer")
        recent = [p for p in (settings.value("recent", []) or []) if p != path]
        settings.setValue("recent", [str(path)] + recent[:9])
        self._fill_recent()

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in (QSettings("isp-viewer", "isp-viewer").value("recent", []) or [])[:10]:
            self.recent_menu.addAction(path).triggered.connect(lambda _c=False, p=path: self.open_files([p]))

    def closeEvent(self, event) -> None:  # noqa: N802
        QApplication.instance().removeEventFilter(self)
        self.bridge.shutdown()
        if self._models is not None:
            self._models.shutdown()
        if getattr(self, "autosaver", None) is not None:
            self.autosaver.flush()
        super().closeEvent(event)


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
