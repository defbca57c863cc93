"""The study panel's results: MOS (or Bradley–Terry) table and a horizontal bar chart with 95 % CIs.

Laid out for a narrow dock: the table above the chart, method names on the chart's vertical axis
(one row each, so long names never run into each other), and an axis range that always holds
the whiskers.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from isp_viewer.study.analysis import StudyAnalysis
from isp_viewer.study.design import Protocol, StudyDesign

MAX_AXIS_LABEL = 22   # characters of a method name on the chart; the table has the full name


def short_label(text: str, limit: int = MAX_AXIS_LABEL) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def value_range(values: np.ndarray, below: np.ndarray, above: np.ndarray,
                scale: tuple[float, float] | None) -> tuple[float, float]:
    """An axis range holding the rating scale (if any), every bar and every whisker, with 5 % air."""
    lo = float(np.nanmin(values - below)) if values.size else 0.0
    hi = float(np.nanmax(values + above)) if values.size else 1.0
    if scale is not None:
        lo, hi = min(lo, scale[0]), max(hi, scale[1])
    else:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    pad = 0.05 * max(hi - lo, 1e-6)
    return lo - pad, hi + pad


class StudyResultsView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        self.table = QTableWidget(0, 0)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setMinimumHeight(150)
        self.table.setMaximumHeight(260)   # scrolls inside: the chart below stays in reach of the dock
        self.rejected_label = QLabel("")
        self.rejected_label.setWordWrap(True)
        self.plot = pg.PlotWidget()
        self.plot.setBackground("w")
        self.plot.showGrid(x=True, alpha=0.3)
        self.plot.setMinimumHeight(200)
        self.plot.setMouseEnabled(x=False, y=False)
        v.addWidget(self.table, 1)
        v.addWidget(self.rejected_label)
        v.addWidget(self.plot, 1)
        self.bar_labels: list[str] = []
        self.value_axis_range: tuple[float, float] = (0.0, 1.0)

    def fill_table(self, headers: list[str], rows: list[list[str]]) -> None:
        t = self.table
        t.clear()
        t.setColumnCount(len(headers))
        t.setHorizontalHeaderLabels(headers)
        t.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if c >= 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                t.setItem(r, c, item)
        header = t.horizontalHeader()
        # numbers keep their width; the method name takes what is left (elided, full text as tooltip)
        for c in range(len(headers)):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.Stretch if c == 0
                                        else QHeaderView.ResizeMode.ResizeToContents)

    def show_analysis(self, design: StudyDesign, a: StudyAnalysis) -> None:
        crop_names = {c.id: c.name for c in design.crops}
        if a.protocol is Protocol.PAIRWISE:
            bt, th = a.bradley_terry, a.thurstone
            rows = [[design.label(m), "", f"{bt.scores[i]:+.2f}", f"[{bt.ci_low[i]:+.2f}, {bt.ci_high[i]:+.2f}]",
                     f"{th.scores[i]:+.2f}", f"[{th.ci_low[i]:+.2f}, {th.ci_high[i]:+.2f}]"]
                    for i, m in enumerate(bt.method_ids)]
            self.fill_table(["Method", "", "Bradley–Terry", "95% CI", "Thurstone V", "95% CI"], rows)
            self.plot_bars([design.label(m) for m in bt.method_ids], bt.scores, bt.scores - bt.ci_low,
                           bt.ci_high - bt.scores, "Bradley–Terry log-strength")
            self.rejected_label.setText(f"{len(a.observers)} observer(s); {int(a.matrix.sum())} comparisons. "
                                        "No BT.500 screening for pairwise data.")
            return
        rows = []
        z = {r.method_id: r for r in a.per_method_z}
        for r in a.per_method:
            rows.append([design.label(r.method_id), "all", str(r.n), f"{r.mos:.2f}", _pm(r.ci),
                         f"{z[r.method_id].mos:+.2f}" if r.method_id in z else ""])
        for r in a.per_method_crop:
            rows.append([design.label(r.method_id), crop_names.get(r.crop_id, r.crop_id), str(r.n), f"{r.mos:.2f}",
                         _pm(r.ci), ""])
        self.fill_table(["Method", "Crop", "N", "MOS", "95% CI", "z-MOS"], rows)
        mos = np.array([r.mos for r in a.per_method])
        ci = np.nan_to_num(np.array([r.ci for r in a.per_method]))
        self.plot_bars([design.label(r.method_id) for r in a.per_method], mos, ci, ci,
                       "MOS (95% CI)" if a.protocol is Protocol.ACR else "DCR score (95% CI)", scale=(1, 5))
        rejected = ", ".join(a.rejected) if a.rejected else "none"
        self.rejected_label.setText(f"{len(a.observers)} observer(s). Rejected by ITU-R BT.500 screening: {rejected}")

    def plot_bars(self, labels: list[str], values: np.ndarray, below: np.ndarray, above: np.ndarray,
                  title: str, scale: tuple[float, float] | None = None) -> None:
        """Horizontal bars, first method on top; bars start at the scale's bottom (or 0)."""
        self.plot.clear()
        values = np.asarray(values, dtype=float)
        n = len(values)
        y = np.arange(n, dtype=float)[::-1]
        # bars start half a step below the scale, so the lowest rating still draws a bar
        base = scale[0] - 0.5 if scale is not None else 0.0
        self.plot.addItem(pg.BarGraphItem(x0=np.full(n, base), y=y, width=values - base, height=0.6,
                                          brush=pg.mkBrush(90, 140, 200), pen=pg.mkPen(40, 70, 110)))
        self.plot.addItem(pg.ErrorBarItem(x=values, y=y, left=np.asarray(below, float), right=np.asarray(above, float),
                                          beam=0.2, pen=pg.mkPen("k", width=1.5)))
        self.bar_labels = [short_label(t) for t in labels]
        self.plot.getAxis("left").setTicks([list(zip(y.tolist(), self.bar_labels))])
        self.plot.getAxis("bottom").setLabel(title)
        self.value_axis_range = value_range(values, np.asarray(below, float), np.asarray(above, float),
                                            None if scale is None else (base, scale[1]))
        self.plot.setXRange(*self.value_axis_range, padding=0)
        self.plot.setYRange(-0.6, n - 0.4, padding=0)


def _pm(ci: float) -> str:
    return "" if np.isnan(ci) else f"± {ci:.2f}"
