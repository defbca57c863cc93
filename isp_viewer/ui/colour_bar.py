"""The colour scale of the analysis views: the colour map as a strip with its numbers.

One scale serves every pane of a mode (the analysis jobs give all panes one range), so it is
shown once, in the analysis dock, and says so. The text states the range, how it was chosen and
the largest value present, so a colour can be read back as a number.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QLinearGradient, QPainter
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget


def number(v: float) -> str:
    """Compact and exact enough to read back: 0.0823, 1.2e-05, 3.14."""
    if v == 0:
        return "0"
    return f"{v:.3g}" if 1e-3 <= abs(v) < 1e4 else f"{v:.2e}"


class _Strip(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.colours: np.ndarray | None = None
        self.setMinimumHeight(14)
        self.setMaximumHeight(14)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def paintEvent(self, _event) -> None:
        if self.colours is None:
            return
        painter = QPainter(self)
        gradient = QLinearGradient(0, 0, self.width(), 0)
        n = len(self.colours)
        for i in range(0, n, max(1, n // 32)):
            r, g, b = (int(c) for c in self.colours[i])
            gradient.setColorAt(i / (n - 1), QColor(r, g, b))
        r, g, b = (int(c) for c in self.colours[-1])
        gradient.setColorAt(1.0, QColor(r, g, b))
        painter.fillRect(QRectF(0, 0, self.width(), self.height()), gradient)
        painter.setPen(QColor(80, 80, 80))
        painter.drawRect(0, 0, self.width() - 1, self.height() - 1)
        painter.end()


class ColourBar(QWidget):
    """Strip + low / middle / high tick labels + one line of explanation."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("")
        self.title.setWordWrap(True)
        self.strip = _Strip()
        self.low, self.mid, self.high = QLabel(), QLabel(), QLabel()
        self.mid.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.high.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.range_label = QLabel("")
        self.range_label.setWordWrap(True)
        self.range_label.setStyleSheet("color: #444; font-size: 11px;")
        ticks = QHBoxLayout()
        ticks.setContentsMargins(0, 0, 0, 0)
        for w in (self.low, self.mid, self.high):
            ticks.addWidget(w, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 2)
        layout.setSpacing(1)
        layout.addWidget(self.title)
        layout.addWidget(self.strip)
        layout.addLayout(ticks)
        layout.addWidget(self.range_label)

    def set_scale(self, quantity: str, lo: float, hi: float, colours: np.ndarray, how: str,
                  extreme: float | None, panes: int) -> None:
        """colours: 256x3 uint8 (the map the panes use); how: how lo..hi was chosen."""
        self.strip.colours = colours
        self.strip.update()
        self.title.setText(f"{quantity}: colour scale shared by all {panes} pane(s)")
        self.low.setText(number(lo))
        self.mid.setText(number((lo + hi) / 2))
        self.high.setText(number(hi))
        text = f"range {number(lo)} – {number(hi)} ({how})"
        if extreme is not None:
            text += f"; {'lowest' if quantity == 'SSIM' else 'largest'} value {number(extreme)}"
        self.range_label.setText(text)
        self.show()
