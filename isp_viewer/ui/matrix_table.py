"""The data-set matrix as a table: images down, methods across, one metric at a time (chosen in a
combo), each cell coloured from worst to best over the whole table, sortable by any column.

Only a view: it shows CellRows (isp_viewer.matrix.report) it is given and reports what the user
asks for as signals; the window (ui.window_dataset) runs the matrix and opens cells.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

CELL_ROLE = Qt.ItemDataRole.UserRole + 1   # (image, method) of a cell, for clicks after sorting
WORST, BEST = QColor(214, 96, 77), QColor(90, 174, 97)


def lower_is_better(metric: str) -> bool:
    from isp_viewer.metrics.catalogue import CATALOGUE

    info = CATALOGUE.get(metric)
    return bool(info and info.lower_is_better)


def cell_colour(value: float, low: float, high: float, lower_better: bool) -> QColor:
    """Red for the table's worst value, green for its best, linear in between (grey: no value)."""
    if not math.isfinite(value):
        return QColor(200, 200, 200)
    t = 0.5 if high <= low else (value - low) / (high - low)
    t = 1.0 - t if lower_better else t
    return QColor(*(round(a + (b - a) * t) for a, b in zip(WORST.getRgb()[:3], BEST.getRgb()[:3], strict=True)))


class NumberItem(QTableWidgetItem):
    """Sorts by value, not by its text; cells without a value sort last."""

    def __lt__(self, other: QTableWidgetItem) -> bool:
        a, b = self.data(Qt.ItemDataRole.UserRole), other.data(Qt.ItemDataRole.UserRole)
        if a is None or b is None:
            return a is not None
        return float(a) < float(b)


class MatrixTable(QWidget):
    """compute_requested / cancel_requested / keep_requested; cell_opened(image, method)."""

    compute_requested = Signal()
    cancel_requested = Signal()
    keep_requested = Signal()
    cell_opened = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list = []
        self.images: list[str] = []
        self.methods: list[str] = []
        self.metric_box = QComboBox()
        self.compute_button = QPushButton("Compute the table")
        self.cancel_button = QPushButton("Cancel")
        self.keep_button = QPushButton("Keep worst regions")
        self.keep_button.setToolTip("Keep the opened cell's worst regions as ROIs (for figures and MOS crops)")
        self.cancel_button.setEnabled(False)
        self.keep_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setFormat("%v / %m runs")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.table = QTableWidget(0, 0)
        self.table.setSortingEnabled(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Metric"))
        bar.addWidget(self.metric_box, 1)
        bar.addWidget(self.compute_button)
        bar.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.progress)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.keep_button)
        layout.addWidget(self.status)
        self.compute_button.clicked.connect(self.compute_requested.emit)
        self.cancel_button.clicked.connect(self.cancel_requested.emit)
        self.keep_button.clicked.connect(self.keep_requested.emit)
        self.metric_box.currentTextChanged.connect(lambda _m: self._fill())
        self.table.cellClicked.connect(self._clicked)

    # ---------------------------------------------------------------- run state
    def set_running(self, running: bool, total: int = 0) -> None:
        self.compute_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        if running:
            self.progress.setRange(0, max(total, 1))
            self.progress.setValue(0)

    def set_progress(self, done: int, to_compute: int, total: int) -> None:
        """done of to_compute runs computed now; the rest of total was read from the store."""
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(total - to_compute + done)
        self.status.setText(f"computing: {done} / {to_compute} runs ({total - to_compute} already stored)")

    # ---------------------------------------------------------------- contents
    def set_cells(self, rows: Sequence, images: Sequence[str], methods: Sequence[str],
                  metrics: Sequence[str]) -> None:
        """rows: CellRows of the matrix; images, methods, metrics: the spec's order."""
        self.rows, self.images, self.methods = list(rows), list(images), list(methods)
        current = self.metric_box.currentText()
        self.metric_box.blockSignals(True)
        self.metric_box.clear()
        self.metric_box.addItems(list(metrics))
        if current in metrics:
            self.metric_box.setCurrentText(current)
        self.metric_box.blockSignals(False)
        self._fill()

    def value(self, image: str, method: str) -> float:
        metric = self.metric_box.currentText()
        return next((r.value for r in self.rows if r.image == image and r.method == method and r.metric == metric),
                    math.nan)

    def cell_at(self, image: str, method: str) -> tuple[int, int]:
        """(row, column) where that cell is shown now (rows move when the table is sorted)."""
        col = self.methods.index(method) + 1
        row = next(r for r in range(self.table.rowCount()) if self.table.item(r, 0).text() == image)
        return row, col

    def _fill(self) -> None:
        metric = self.metric_box.currentText()
        values = {(r.image, r.method): r.value for r in self.rows if r.metric == metric}
        finite = [v for v in values.values() if math.isfinite(v)]
        low, high = (min(finite), max(finite)) if finite else (0.0, 0.0)
        lower_better = lower_is_better(metric)
        from isp_viewer.metrics.table import DECIMALS

        decimals = DECIMALS.get(metric, 4)
        self.table.setSortingEnabled(False)
        self.table.clear()
        self.table.setRowCount(len(self.images))
        self.table.setColumnCount(len(self.methods) + 1)
        self.table.setHorizontalHeaderLabels(["image", *self.methods])
        for r, image in enumerate(self.images):
            self.table.setItem(r, 0, QTableWidgetItem(image))
            for c, method in enumerate(self.methods, start=1):
                v = values.get((image, method), math.nan)
                item = NumberItem("—" if not math.isfinite(v) else f"{v:.{decimals}f}")
                item.setData(Qt.ItemDataRole.UserRole, v if math.isfinite(v) else None)
                item.setData(CELL_ROLE, (image, method))
                item.setBackground(cell_colour(v, low, high, lower_better))
                item.setForeground(QColor(0, 0, 0))
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        self.table.setSortingEnabled(True)
        self.table.resizeColumnsToContents()

    def _clicked(self, row: int, col: int) -> None:
        item = self.table.item(row, col)
        cell = None if item is None else item.data(CELL_ROLE)
        if cell:
            self.cell_opened.emit(*cell)
