"""The analysis dock: display mode, metric convention, metrics table, radial spectra."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from isp_viewer.metrics.convention import ISP_PAPER, SR_PAPER, Convention
from isp_viewer.ui import metric_columns
from isp_viewer.ui.analysis_jobs import MODES, MetricRow, PaneDisplay, lut
from isp_viewer.ui.colour_bar import ColourBar, number
from isp_viewer.ui.metrics_menu import MetricsButton

MODE_LABELS = {
    "image": "Images", "error:absolute": "Error: absolute", "error:signed": "Error: signed",
    "error:squared": "Error: squared", "error:relative": "Error: relative", "error:ssim": "SSIM map",
    "error:flip": "FLIP map", "fft:amplitude": "FFT log-amplitude", "fft:phase": "FFT phase",
    "error:de2000": "Colour: dE2000", "error:zipper": "Colour: zipper", "error:false-colour": "Colour: false colour",
}
CONVENTIONS = {
    "ISP paper (RGB, [0,1])": ISP_PAPER,
    "SR paper ×2 (Y, crop 2, uint8)": SR_PAPER(2),
    "SR paper ×3 (Y, crop 3, uint8)": SR_PAPER(3),
    "SR paper ×4 (Y, crop 4, uint8)": SR_PAPER(4),
    "SR paper ×8 (Y, crop 8, uint8)": SR_PAPER(8),
}
SHORT_QUANTITY = {"absolute error": "|err|", "signed error": "err", "squared error": "err²",
                  "relative error": "rel err", "SSIM": "SSIM", "FLIP error": "FLIP",
                  "log10 amplitude": "log10 amp", "phase (rad)": "phase rad",
                  "CIEDE2000 dE00": "dE00", "zipper phi (dE*ab)": "phi",
                  "false colour (a*b*)": "dab"}   # the inspector's column is narrow
CURVE_COLOURS = [(0, 0, 0), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
                 (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]


def legend_names(labels: list[str]) -> list[str]:
    """Short, unique legend entries: the method without the file name in front; where two
    methods read the same (two files rendered alike), the file name stays; long ones lose their middle."""
    def short(label: str) -> str:
        parts = label.split(" · ")
        return " · ".join(parts[1:] if len(parts) > 1 and "." in parts[0] else parts)

    def elide(text: str) -> str:
        return text if len(text) <= 40 else text[:19] + "…" + text[-20:]

    shorts = [short(label) for label in labels]
    names = [elide(label if shorts.count(s) > 1 else s) for label, s in zip(labels, shorts)]
    return [n if names[:i].count(n) == 0 else f"{n} ({names[:i].count(n) + 1})" for i, n in enumerate(names)]


class NumericItem(QTableWidgetItem):
    """Sorts by value, not text."""

    def __init__(self, value: float | None, text: str) -> None:
        super().__init__(text)
        self.value = -np.inf if value is None else value

    def __lt__(self, other) -> bool:
        return self.value < getattr(other, "value", -np.inf)


class AnalysisPanel(QWidget):
    mode_changed = Signal(str)
    convention_changed = Signal()
    roi_toggled = Signal(bool)
    metrics_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[MetricRow] = []
        self._region_text = ""
        self.displays: dict[int, PaneDisplay] = {}
        self.colour_bar = ColourBar()
        self.colour_bar.hide()
        self.mode = QComboBox()
        for mode in MODES:
            self.mode.addItem(MODE_LABELS[mode], mode)
        self.convention = QComboBox()
        self.convention.addItems(list(CONVENTIONS))
        self.roi = QCheckBox("Measure inside the ROI (drag it in any pane)")
        self.convention_label = QLabel()
        self.convention_label.setWordWrap(True)
        self.convention_label.setStyleSheet("color: #555; font-size: 11px;")
        self.metrics = MetricsButton()
        self.metrics.changed.connect(self._metrics_changed)
        self.columns: tuple[str, ...] = ()
        self.table = QTableWidget(0, 0)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setSortingEnabled(True)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.clicked.connect(self._export_csv)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setLogMode(x=False, y=True)
        self.plot.setLabel("bottom", "frequency", units="cycles/px")
        self.plot.setLabel("left", "power")
        legend = self.plot.addLegend(offset=(-5, 5), labelTextSize="7pt", verSpacing=-6)
        legend.setBrush(pg.mkBrush(255, 255, 255, 200))
        self.plot.setMinimumHeight(180)
        form = QFormLayout()
        form.addRow("View", self.mode)
        form.addRow("Convention", self.convention)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.colour_bar)
        layout.addWidget(self.roi)
        layout.addWidget(self.convention_label)
        layout.addWidget(self.table, 1)
        row = QHBoxLayout()
        row.addWidget(self.metrics)
        row.addStretch(1)
        row.addWidget(self.export_button)
        layout.addLayout(row)
        layout.addWidget(QLabel("Radial power spectrum (luminance, Hann window)"))
        layout.addWidget(self.plot, 1)
        self.mode.currentIndexChanged.connect(lambda _i: self._mode_changed())
        self.convention.currentIndexChanged.connect(lambda _i: self._convention_changed())
        self.roi.toggled.connect(self.roi_toggled.emit)
        self._convention_changed(emit=False)
        self._set_columns()

    def current_mode(self) -> str:
        return self.mode.currentData()

    def _mode_changed(self) -> None:
        self.displays = {}
        self.colour_bar.hide()   # until the new mode's displays arrive with their range
        self.mode_changed.emit(self.current_mode())

    def show_displays(self, displays: dict[int, PaneDisplay]) -> None:
        """The panes' analysis displays arrived: show their shared colour scale, keep their values."""
        self.displays = dict(displays)
        scaled = [d for d in displays.values() if d.cmap and not d.is_reference]
        if not scaled:
            self.colour_bar.hide()
            return
        d = scaled[0]
        extremes = [x.max_value for x in scaled if x.max_value is not None]
        extreme = (min(extremes) if d.quantity == "SSIM" else max(extremes)) if extremes else None
        self.colour_bar.set_scale(d.quantity, d.lo, d.hi, lut(d.cmap), d.range_note, extreme, len(scaled))

    def shown_value(self, item_id: int, x: float, y: float, ref_size: tuple[int, int]) -> str:
        """The value the pane displays at reference pixel (x, y) in an analysis mode ("" otherwise)."""
        d = self.displays.get(item_id)
        if d is None:
            return ""
        if d.is_reference:
            return "reference"
        v = d.value_at(x, y, ref_size)
        return "" if v is None else f"{SHORT_QUANTITY.get(d.quantity, d.quantity)} {number(v)}"

    def use_sr_convention(self, scale: int) -> bool:
        """Switch to the SR-paper convention for ×scale (True if there is one)."""
        for i in range(self.convention.count()):
            if self.convention.itemText(i).startswith(f"SR paper ×{scale} "):
                self.convention.setCurrentIndex(i)
                return True
        return False

    def set_mode(self, mode: str) -> None:
        self.mode.setCurrentIndex(MODES.index(mode))

    def current_convention(self) -> Convention:
        return CONVENTIONS[self.convention.currentText()]

    def _convention_changed(self, emit: bool = True) -> None:
        self.convention_label.setText(self.current_convention().describe())
        if emit:
            self.convention_changed.emit()

    def chosen_metrics(self) -> tuple[str, ...]:
        return self.metrics.chosen()

    def _metrics_changed(self) -> None:
        self.set_rows(self.rows, self._region_text)
        self.metrics_changed.emit()   # the window recomputes with the new columns

    def _set_columns(self) -> None:
        """method | the chosen metrics (tooltip: definition and convention) | note."""
        self.columns = self.chosen_metrics()
        conv = self.current_convention()
        self.table.setColumnCount(len(self.columns) + 2)
        self.table.setHorizontalHeaderItem(0, QTableWidgetItem("method"))
        for c, name in enumerate(self.columns, start=1):
            item = QTableWidgetItem(metric_columns.header(name))
            item.setToolTip(metric_columns.header_tip(name, conv))
            self.table.setHorizontalHeaderItem(c, item)
        self.table.setHorizontalHeaderItem(len(self.columns) + 1, QTableWidgetItem("note"))

    def column(self, name: str) -> int:
        """The table column showing metric `name` (-1 if not chosen)."""
        return self.columns.index(name) + 1 if name in self.columns else -1

    @staticmethod
    def row_value(row: MetricRow, name: str) -> float | None:
        if name in metric_columns.BUILT_IN:
            return row.psnr if name == "PSNR" else row.ssim
        return row.values.get(name)

    def set_rows(self, rows: list[MetricRow], region_text: str = "") -> None:
        self.rows, self._region_text = rows, region_text
        self._set_columns()
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            self.table.setItem(r, 0, QTableWidgetItem(row.label))
            for c, name in enumerate(self.columns, start=1):
                value = self.row_value(row, name)
                self.table.setItem(r, c, NumericItem(value, metric_columns.cell_text(name, value)))
            self.table.setItem(r, len(self.columns) + 1, QTableWidgetItem(row.note))
        self.table.setSortingEnabled(True)
        for c in range(1, len(self.columns) + 1):   # numbers are short: more columns fit the dock
            self.table.resizeColumnToContents(c)
        text = self.current_convention().describe()
        self.convention_label.setText(text + (f" · {region_text}" if region_text else " · whole image"))

    def set_spectra(self, curves: list[tuple[str, np.ndarray, np.ndarray]]) -> None:
        self.plot.clear()
        names = legend_names([label for label, _f, _p in curves])
        for i, ((_label, freq, power), name) in enumerate(zip(curves, names)):
            pen = pg.mkPen(CURVE_COLOURS[i % len(CURVE_COLOURS)], width=2 if i == 0 else 1.5)
            self.plot.plot(freq, np.maximum(power, 1e-12), pen=pen, name=name)

    def _export_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export metrics", "metrics.csv", "CSV (*.csv)")
        if path:
            self.write_csv(Path(path))

    def write_csv(self, path: Path) -> None:
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            extra = [n for n in self.columns if n not in metric_columns.BUILT_IN]
            writer.writerow(["method", "psnr_db", "ssim", *extra, "note", "convention"])
            conv = self.convention_label.text()
            for row in self.rows:
                values = [self.row_value(row, n) for n in extra]
                writer.writerow([row.label, "" if row.psnr is None else f"{row.psnr:.4f}",
                                 "" if row.ssim is None else f"{row.ssim:.6f}",
                                 *("" if v is None else f"{v:.6g}" for v in values), row.note, conv])
