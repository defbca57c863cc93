"""One row per network job in the model panel: state, progress, elapsed time, cancel."""

from __future__ import annotations

import time
from concurrent.futures import CancelledError, Future

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from isp_viewer.core.image import Image
from isp_viewer.engine import Progress, Result
from isp_viewer.engine.run_requests import GREY, RED, ModelResult, Source, one_line, result_label, short_dtype
from isp_viewer.models.adapters import finish_output, option_label
from isp_viewer.models.spec import ModelSpec

ACTIVE_STATES = ("preparing", "queued", "running", "finishing")
BAR_STEPS = 1000        # progress bar resolution: per mille of the job


class JobRow(QFrame):
    """name [progress: done/total tiles] [✕] and a status line (elapsed, remaining, result, error)."""

    cancel_requested = Signal(int)   # job key

    def __init__(self, key: int, spec: ModelSpec, weights: str, options: dict | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key, self.spec, self.weights = key, spec, weights
        self.options = dict(options or {})   # user-set infer options (noise_sigma), in the label too
        self.state = "preparing"
        self.future: Future | None = None
        self.superseded = False
        self.weights_sha256 = ""
        self.progress: Progress | None = None
        self.progress_at = 0.0     # time.monotonic() when `progress` arrived
        self.message = ""

        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.name_label = QLabel(option_label(spec.name, self.options))
        self.bar = QProgressBar()
        self.bar.setRange(0, BAR_STEPS)   # the fraction done, tiles and the pass within a tile
        self.bar.setValue(0)
        self.bar.setFormat("%p%")
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
            self.bar.setValue(self.bar.maximum())

    def on_progress(self, p: Progress) -> None:
        self.progress, self.progress_at = p, time.monotonic()
        if self.state in ("queued", "running"):
            self.state = "running"
            # One tile of a whole image can run for minutes on a CPU: the engine reports how far
            # into the pass it is, so the bar moves inside a tile too.
            self.bar.setValue(round(BAR_STEPS * min(1.0, max(0.0, p.fraction))))
            self.bar.setFormat(f"{min(p.done, p.total)}/{p.total} tiles · %p%" if p.total > 1 else "%p%")
            self.tick()

    def tick(self) -> None:
        """Refresh elapsed and remaining between progress reports."""
        p = self.progress
        if self.state != "running" or p is None:
            return
        since = time.monotonic() - self.progress_at
        elapsed = p.elapsed + since
        tiles = f"{p.done}/{p.total} tiles" if p.total > 1 else "one tile"
        text = f"running · {tiles} of {p.tile_size} px · {elapsed:.1f} s"
        if p.remaining is not None:
            text += f" · ~{max(0.0, p.remaining - since):.1f} s left"
        self.status_label.setText(text)
        self.message = text


class _ProgressRelay(QObject):
    """Lives on the GUI thread; `arrived` emitted from an engine worker is queued to it."""

    arrived = Signal(int, object)   # job key, Progress



class JobControls:
    """Part of ModelPanel (ui.model_panel): the job list, each job's progress, result, failure and cancel."""

    def _build_job_list(self) -> QWidget:
        host = QWidget()
        self.job_layout = QVBoxLayout(host)
        self.job_layout.setContentsMargins(0, 0, 0, 0)
        self.job_layout.setSpacing(2)
        self.job_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(host)
        scroll.setMinimumHeight(90)
        scroll.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        return scroll

    def _on_progress(self, key: int, p: Progress) -> None:
        row = self.jobs.get(key)
        if row is not None and row.active:
            row.on_progress(p)
            self.job_progress.emit(row.spec.id, p)
            if not self._elapsed_timer.isActive():
                self._elapsed_timer.start()

    def _tick_jobs(self) -> None:
        running = [row for row in self.jobs.values() if row.state == "running"]
        for row in running:
            row.tick()
        if not running:
            self._elapsed_timer.stop()

    def _job_done(self, row: JobRow, result: Result, source: Source) -> None:
        if row.state not in ("queued", "running"):
            return
        row.set_state("finishing", "finishing…")
        label = result_label(row.spec, row.weights, result, row.options)
        meta = {"method": "network", "model": row.spec.id, "weights": row.weights, "options": row.options,
                "weights_sha256": row.weights_sha256,
                "device": result.device, "dtype": result.dtype, "seconds": result.seconds,
                "tiles": result.tiles, "tile_size": result.tile_size, "placement": result.reason,
                "notes": list(result.notes), "from_cache": result.from_cache}
        spec = row.spec
        self.bridge.submit(lambda: finish_output(spec, result.output, source, label, meta),
                           lambda image: self._deliver(row, result, image, label, source),
                           lambda exc: self._fail(row, exc))

    def _deliver(self, row: JobRow, result: Result, image: Image, label: str, source: Source) -> None:
        if row.state != "finishing":
            return  # cancelled meanwhile
        summary = f"done · {result.seconds:.1f} s · {result.device} {short_dtype(result.dtype)}"
        if result.from_cache:
            summary += " · from cache"
        else:
            summary += f" · {result.tiles} tile{'s' if result.tiles != 1 else ''} of {result.tile_size} px"
        tooltip = "\n".join([result.reason, *result.notes])
        if result.notes:
            summary += " · " + "; ".join(result.notes)
        row.bar.setRange(0, max(1, row.progress.total if row.progress else 1))
        row.set_state("done", summary, tooltip)
        self.result_ready.emit(ModelResult(row.spec.id, image, result, row.weights, label, source))
        self._after_change()

    def _job_error(self, row: JobRow, exc: BaseException) -> None:
        if isinstance(exc, CancelledError):
            if row.active:
                text = "cancelled (superseded by a newer run)" if row.superseded else "cancelled"
                row.set_state("cancelled", text)
            self._after_change()
            return
        self._fail(row, exc)

    def _fail(self, row: JobRow, exc: BaseException) -> None:
        if not row.active:
            return
        message = one_line(exc)
        row.set_state("failed", f"error: {message}", message)
        self.job_failed.emit(row.spec.id, message)
        self._after_change()

    def _add_job_row(self, spec: ModelSpec, weights: str, options: dict | None = None) -> JobRow:
        self._next_key += 1
        row = JobRow(self._next_key, spec, weights, options)
        row.cancel_requested.connect(self.cancel_job)
        self.jobs[row.key] = row
        self.job_layout.insertWidget(self.job_layout.count() - 1, row)
        return row

    def cancel_job(self, key: int) -> None:
        """Cancel one job: at once while preparing or queued, at the next tile or layer while running."""
        row = self.jobs.get(key)
        if row is None or not row.active:
            return
        if row.future is not None and row.state in ("queued", "running"):
            self.engine.cancel(row.future)   # its watcher reports CancelledError: the row says so
            if row.active and row.future.cancelled():
                row.set_state("cancelled", "cancelled")
        else:
            row.set_state("cancelled", "cancelled")
        self._after_change()

    def cancel_all(self) -> None:
        for key in [key for key, row in self.jobs.items() if row.active]:
            self.cancel_job(key)

    def clear_finished(self) -> None:
        for key in [key for key, row in self.jobs.items() if not row.active]:
            row = self.jobs.pop(key)
            self.job_layout.removeWidget(row)
            row.deleteLater()
        self._update_buttons()

    def active_jobs(self) -> list[JobRow]:
        return [row for row in self.jobs.values() if row.active]

    def _update_buttons(self) -> None:
        n = len(self.selected_ids())
        self.run_button.setEnabled(n > 0)
        self.run_button.setText(f"Run {n} network{'s' if n != 1 else ''}" if n else "Run")
        self.cancel_button.setEnabled(bool(self.active_jobs()))
        self.clear_button.setEnabled(any(not row.active for row in self.jobs.values()))
        self._update_noise_field([row.spec for row in self.rows.values() if row.checkbox.isChecked()])
