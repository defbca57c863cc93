"""One row per network job in the model panel: state, progress, elapsed time, cancel."""


from __future__ import annotations

import time
from concurrent.futures import Future

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressBar, QToolButton, QVBoxLayout, QWidget

from isp_viewer.engine import Progress
from isp_viewer.engine.run_requests import GREY, RED
from isp_viewer.models.spec import ModelSpec


ACTIVE_STATES = ("preparing", "queued", "running", "finishing")


class JobRow(QFrame):
    """name [progress: done/total tiles] [✕] and a status line (elapsed, remaining, result, error)."""

    cancel_requested = Signal(int)   # job key

    def __init__(self, key: int, spec: ModelSpec, weights: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key, self.spec, self.weights = key, spec, weights
        self.state = "preparing"
        self.future: Future | None = None
        self.superseded = False
        self.weights_sha256 = ""
        self.progress: Progress | None = None
        self.progress_at = 0.0     # time.monotonic() when `progress` arrived
        self.message = ""

        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.name_label = QLabel(spec.name)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.bar.setFormat("%v/%m tiles")
        self.bar.setMaximumHeight(16)
        self.cancel_button = QToolButton()
        self.cancel_button.setText("✕")
        self.cancel_button.setToolTip("Cancel this job")
        self.cancel_button.setAutoRaise(True)
        self.cancel_button.clicked.connect(lambda: self.cancel_requested.emit(self.key))
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.name_label)
        top.addWidget(self.bar, 1)
        top.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(1)
        layout.addLayout(top)
        layout.addWidget(self.status_label)
        self.set_state("preparing", "preparing input…")

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    def set_state(self, state: str, message: str, tooltip: str = "") -> None:
        self.state, self.message = state, message
        self.status_label.setText(message)
        style = {"failed": RED, "cancelled": GREY}.get(state, "")
        self.status_label.setStyleSheet(style)
        self.status_label.setToolTip(tooltip)
        self.cancel_button.setEnabled(self.active)
        if state == "done":
            self.bar.setRange(0, max(1, self.bar.maximum()))
            self.bar.setValue(self.bar.maximum())
        elif not self.active and self.bar.maximum() == 0:
            self.bar.setRange(0, 1)   # stop a busy indicator

    def on_progress(self, p: Progress) -> None:
        self.progress, self.progress_at = p, time.monotonic()
        if self.state in ("queued", "running"):
            self.state = "running"
            if p.total == 1 and p.done == 0:
                self.bar.setRange(0, 0)   # a whole-frame run: busy, no tiles to count
            else:
                self.bar.setRange(0, max(1, p.total))
                self.bar.setValue(min(p.done, p.total))
            self.tick()

    def tick(self) -> None:
        """Refresh elapsed and remaining between progress reports."""
        p = self.progress
        if self.state != "running" or p is None:
            return
        since = time.monotonic() - self.progress_at
        elapsed = p.elapsed + since
        text = f"running · {p.done}/{p.total} tiles of {p.tile_size} px · {elapsed:.1f} s"
        if p.remaining is not None:
            text += f" · ~{max(0.0, p.remaining - since):.1f} s left"
        self.status_label.setText(text)
        self.message = text


class _ProgressRelay(QObject):
    """Lives on the GUI thread; `arrived` emitted from an engine worker is queued to it."""

    arrived = Signal(int, object)   # job key, Progress

