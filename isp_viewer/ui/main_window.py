"""The main window: linked panes, inspector, display controls, menus."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDockWidget,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QTableWidget,
    QWidget,
)

from isp_viewer.core.region import Region
from isp_viewer.core.session import Session
from isp_viewer.ui import analysis_jobs
from isp_viewer.ui.analysis_panel import AnalysisPanel
from isp_viewer.ui.bridge import FutureBridge
from isp_viewer.ui.gui_thread_gc import collect_on_gui_thread
from isp_viewer.ui.pane import ImagePane
from isp_viewer.ui.window_analysis import AnalysisControls
from isp_viewer.ui.window_dataset import DatasetMode
from isp_viewer.ui.window_files import FilesAndSessions
from isp_viewer.ui.window_methods import MethodRunner
from isp_viewer.ui.window_panes import PaneGrid


class MainWindow(PaneGrid, AnalysisControls, DatasetMode, FilesAndSessions, MethodRunner, QMainWindow):
    """Wiring: builds the docks and menus, binds them to the session, and holds the state the
    responsibility classes (ui.window_*) share: session, bridge, panes, current pane."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("ISP Viewer")
        # app.start shows it maximised; this is its size when un-maximised, within the screen.
        screen = QGuiApplication.primaryScreen()
        available = screen.availableGeometry().size() if screen is not None else QSize(1500, 950)
        self.resize(QSize(1500, 950).boundedTo(available) if available.width() >= 1024 else QSize(1500, 950))
        self.setAcceptDrops(True)
        collect_on_gui_thread()   # before any worker exists: see gui_thread_gc
        self.session = Session()
        self.bridge = FutureBridge(workers=2, parent=self)
        self.panes: dict[int, ImagePane] = {}
        self.current_id: int | None = None
        self.session_path: Path | None = None   # the .ispv this window saves to and was opened from
        self.swipe_on = False
        self.flickering = False
        self.last_error = ""
        self.fit_mode = True   # keep fitting on resize until the user zooms or pans
        self._last_roi: Region | None = None   # where the ROI comes back when it is switched on again
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

        self.analysis = AnalysisPanel()
        dock = QDockWidget("Analysis", self)
        dock.setObjectName("analysis")
        dock.setWidget(self.analysis)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.analysis.mode_changed.connect(self.set_analysis_mode)
        self.analysis.convention_changed.connect(self.schedule_analysis)
        self.analysis.metrics_changed.connect(self.schedule_analysis)
        self.analysis.metrics.bind(self.session)   # the chosen columns live in the session (saved with it)
        self.analysis.roi_toggled.connect(self.set_roi_enabled)
        self._build_study_dock()
        self._build_models_dock()
        self._analysis_timer = QTimer(self, singleShot=True, interval=200)   # throttle recomputation
        self._analysis_timer.timeout.connect(self._run_analysis)










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






























































    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not getattr(self, "_docks_sized", False):
            self._docks_sized = True   # docks take what they need; the panes get the rest
            docks = [self.findChild(QDockWidget, n) for n in ("models", "inspector", "display", "analysis")]
            QTimer.singleShot(0, lambda: self.resizeDocks(docks, [330, 380, 380, 380], Qt.Orientation.Horizontal))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        QTimer.singleShot(0, self._relayout_if_shape_changed)
        QTimer.singleShot(0, self._fit_if_wanted)













    def eventFilter(self, watched, event) -> bool:
        kind = event.type()
        if (kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease) and self.isActiveWindow()
                and event.key() == Qt.Key.Key_Space and not event.isAutoRepeat()
                and not isinstance(QApplication.focusWidget(), (QLineEdit, QAbstractSpinBox, QComboBox))
                and isinstance(watched, QWidget) and watched.window() is self):
            self.flicker(kind == QEvent.Type.KeyPress)
            return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self.flicker(True)
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self.flicker(False)
            return
        super().keyReleaseEvent(event)







    def closeEvent(self, event) -> None:
        QApplication.instance().removeEventFilter(self)
        self.bridge.shutdown()
        if self._models is not None:
            self._models.shutdown()
        if getattr(self, "autosaver", None) is not None:
            self.autosaver.flush()
        super().closeEvent(event)


