"""The model panel: tick networks, choose device / precision / tile size, run them, watch each job.

Contract with the owner (the main window):
- `ModelPanel(engine, source_provider)`: `engine` is an `isp_viewer.engine.Engine` (None: the
  panel makes one with the on-disk result cache and shuts it down in `shutdown()`);
  `source_provider()` returns the current input (a `RawMosaic` or an `Image`) or None. The owner
  also calls `set_source(source)` when the current input changes, which re-checks which networks
  can take it.
- `result_ready(ModelResult)` fires on the GUI thread for every finished job; `job_failed(model_id,
  message)` for every failed one (cancellations are not failures). Nothing here opens a dialog
  except the file chooser the user asks for; every error lands in the row it belongs to.

Threading: preparing inputs, checking weights and finishing outputs run on the panel's
`FutureBridge` workers; the network itself runs on the engine's worker. Engine progress callbacks
arrive on the engine's thread and are turned into a queued Qt signal, so widgets are only touched
on the GUI thread.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from isp_viewer.core.errors import ModelError
from isp_viewer.engine import DeviceInfo, Engine, Job, Progress, ResultCache
from isp_viewer.engine.run_requests import (
    CHANNEL_PREFIX,
    ELAPSED_TICK_MS,
    GREY,
    Source,
    WeightsChecker,
    WeightsFinder,
    check_weights_strictly,
    describe_source,
    one_line,
    prepare_inputs,
    short_reason,
    weights_sha256,
)
from isp_viewer.models.loading import WEIGHT_SUFFIXES
from isp_viewer.models.registry import all_specs, find_weights
from isp_viewer.models.spec import ModelSpec, Task
from isp_viewer.ui.bridge import FutureBridge
from isp_viewer.ui.job_list import JobControls, JobRow, _ProgressRelay
from isp_viewer.ui.model_list import ModelRow
from isp_viewer.ui.run_settings import RunSettings


class ModelPanel(RunSettings, JobControls, QWidget):
    """Networks grouped by task, run settings, Run/Cancel, and one progress row per job."""

    result_ready = Signal(object)          # ModelResult
    job_failed = Signal(str, str)          # model id, one-line message
    job_progress = Signal(str, object)     # model id, engine Progress (on the GUI thread)
    availability_changed = Signal()        # rows re-checked for the current source
    weights_checked = Signal(str, str)     # model id, "" when the chosen file fits, else the error
    jobs_finished = Signal()               # no job is active any more

    def __init__(self, engine: Engine | None = None, source_provider: Callable[[], Source | None] | None = None,
                 *, specs: Iterable[ModelSpec] | None = None, weights_finder: WeightsFinder = find_weights,
                 weights_checker: WeightsChecker = check_weights_strictly, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._owns_engine = engine is None
        self.engine = engine if engine is not None else Engine(cache=ResultCache())
        self.devices: DeviceInfo = getattr(self.engine, "devices", DeviceInfo())
        self._source_provider = source_provider
        self._weights_checker = weights_checker
        self._sha256 = weights_sha256
        self.bridge = FutureBridge(workers=2, parent=self)
        self._relay = _ProgressRelay(self)
        self._relay.arrived.connect(self._on_progress)
        self.source: Source | None = None
        self._check_generation = 0
        self._run_generation = 0
        self._next_key = 0
        self.jobs: dict[int, JobRow] = {}
        self.rows: dict[str, ModelRow] = {}

        specs = list(all_specs() if specs is None else specs)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.input_label = QLabel("No input open")
        self.input_label.setStyleSheet(GREY)
        self.input_label.setWordWrap(True)
        layout.addWidget(self.input_label)
        layout.addWidget(self._build_model_list(specs, weights_finder), 3)
        layout.addWidget(self._build_settings())
        layout.addLayout(self._build_buttons())
        layout.addWidget(self._build_job_list(), 1)

        self._elapsed_timer = QTimer(self)
        self._elapsed_timer.setInterval(ELAPSED_TICK_MS)
        self._elapsed_timer.timeout.connect(self._tick_jobs)
        self._update_device_choices()
        self._update_buttons()

    # ---------------------------------------------------------------- building
    def _build_model_list(self, specs: list[ModelSpec], weights_finder: WeightsFinder) -> QWidget:
        host = QWidget()
        column = QVBoxLayout(host)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(4)
        order = {task: i for i, task in enumerate(Task)}
        self.groups: dict[Task, QGroupBox] = {}
        for task in sorted({s.task for s in specs}, key=lambda t: order.get(t, len(order))):
            group = QGroupBox(task.value if isinstance(task, Task) else str(task))
            inner = QVBoxLayout(group)
            inner.setContentsMargins(4, 2, 4, 2)
            inner.setSpacing(0)
            for spec in (s for s in specs if s.task == task):
                row = ModelRow(spec, self._find(weights_finder, spec))
                row.load_requested.connect(self.choose_weights)
                row.forget_requested.connect(lambda model_id: self.set_weights(model_id, None))
                row.toggled.connect(self._update_buttons)
                self.rows[spec.id] = row
                inner.addWidget(row)
            self.groups[task] = group
            column.addWidget(group)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # rows wrap instead
        scroll.setWidget(host)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        return scroll

    @staticmethod
    def _find(weights_finder: WeightsFinder, spec: ModelSpec) -> Path | None:
        try:
            found = weights_finder(spec)
        except OSError:   # an unreadable weights folder must not take the panel down
            return None
        return Path(found) if found is not None else None


    def _build_buttons(self) -> QHBoxLayout:
        self.run_button = QPushButton("Run")
        self.run_button.clicked.connect(self.run)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_all)
        self.clear_button = QPushButton("Clear finished")
        self.clear_button.clicked.connect(self.clear_finished)
        self.message_label = QLabel()
        self.message_label.setStyleSheet(GREY)
        row = QHBoxLayout()
        row.addWidget(self.run_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.clear_button)
        row.addWidget(self.message_label, 1)
        return row


    # ---------------------------------------------------------------- devices and precision


    # ---------------------------------------------------------------- input and availability
    def current_source(self) -> Source | None:
        return self._source_provider() if self._source_provider is not None else self.source

    def set_source(self, source: Source | None) -> None:
        """Make `source` the input and re-check, off the GUI thread, which networks can take it."""
        self.source = source
        self.input_label.setText(describe_source(source))
        self._check_generation += 1
        generation = self._check_generation
        if source is None:
            self._apply_availability(generation, {spec_id: ModelError("no input open") for spec_id in self.rows})
            return
        for row in self.rows.values():
            row.checking_input = True
            row.refresh()
        self._update_buttons()
        specs = [row.spec for row in self.rows.values()]
        self.bridge.submit(lambda: prepare_inputs(specs, source, arrays=False),
                           lambda fits, g=generation: self._apply_availability(g, fits),
                           lambda exc, g=generation: self._apply_availability(
                               g, {spec_id: exc for spec_id in self.rows}))

    def _apply_availability(self, generation: int, fits: dict[str, Any]) -> None:
        if generation != self._check_generation:
            return  # a newer source was set meanwhile
        for spec_id, row in self.rows.items():
            outcome = fits.get(spec_id)
            row.checking_input = False
            if isinstance(outcome, BaseException):
                row.input_reason = short_reason(row.spec, one_line(outcome))
            else:
                row.input_reason = None
            row.refresh()
        self._update_buttons()
        self.availability_changed.emit()

    # ---------------------------------------------------------------- weights
    def choose_weights(self, model_id: str) -> None:
        """Ask the user for a checkpoint file for `model_id` (the one dialog this panel opens)."""
        row = self.rows[model_id]
        suffixes = " ".join(f"*{s}" for s in WEIGHT_SUFFIXES)
        start = str(Path(row.weights_path()).parent) if row.weights_path() else ""
        path, _ = QFileDialog.getOpenFileName(self, f"Weights for {row.spec.name}", start,
                                              f"Checkpoints ({suffixes});;All files (*)")
        if path:
            self.set_weights(model_id, path)

    def set_weights(self, model_id: str, path: str | os.PathLike | None) -> None:
        """Use `path` for `model_id` (None: back to the weights found); it is loaded strictly in a
        worker and the row shows the one-line error if it does not fit."""
        row = self.rows[model_id]
        row.chosen = None if path is None else str(path)
        row.chosen_error = None
        row.checking_weights = path is not None
        row.refresh()
        self._update_buttons()
        if path is None:
            return
        chosen = row.chosen
        self.bridge.submit(lambda: self._weights_checker(row.spec, chosen),
                           lambda _ok: self._weights_result(model_id, chosen, None),
                           lambda exc: self._weights_result(model_id, chosen, exc))

    def _weights_result(self, model_id: str, path: str, error: BaseException | None) -> None:
        row = self.rows[model_id]
        if row.chosen != path:
            return  # another file was picked meanwhile
        row.checking_weights = False
        row.chosen_error = None if error is None else one_line(error)
        row.refresh()
        self._update_buttons()
        self.weights_checked.emit(model_id, row.chosen_error or "")

    def weights_choices(self) -> dict[str, str]:
        """model id -> checkpoint path the user picked (for the owner to save in the session)."""
        return {model_id: row.chosen for model_id, row in self.rows.items() if row.chosen}

    # ---------------------------------------------------------------- running
    def selected_ids(self) -> list[str]:
        return [model_id for model_id, row in self.rows.items() if row.is_selected()]

    def set_checked(self, model_id: str, checked: bool = True) -> None:
        self.rows[model_id].checkbox.setChecked(checked)

    def run(self) -> list[int]:
        """Submit one engine job per checked, available network for the current input; returns the
        keys of the new job rows. Preparing the inputs happens in a worker."""
        source = self.current_source()
        if source is not self.source:
            self.set_source(source)
            # The re-check is asynchronous: run what is checked now; jobs that cannot take the new
            # input fail in their own row with prepare_input's reason.
        if source is None:
            self.message_label.setText("Open an input first")
            return []
        rows = [row for row in self.rows.values() if row.checkbox.isChecked() and row.weights_reason() is None
                and (row.checking_input or row.input_reason is None)]
        if not rows:
            self.message_label.setText("Tick a network that can run")
            return []
        self.message_label.setText("")
        self._run_generation += 1
        generation = self._run_generation
        settings = dict(device=self.device_request(), precision=self.precision_request(),
                        tile_size=self.tile_size(), generation=generation)
        sigma = self.noise_sigma()
        new: list[JobRow] = []
        for row in rows:
            for old in self.jobs.values():
                if old.spec.id == row.spec.id and old.active:
                    old.superseded = True
                    if old.state == "preparing":
                        old.set_state("cancelled", "cancelled (superseded by a newer run)")
            takes_noise = sigma is not None and "noise_sigma" in row.spec.options
            job_row = self._add_job_row(row.spec, row.weights_path() or "",
                                        {"noise_sigma": sigma} if takes_noise else {})
            new.append(job_row)
        specs = [job_row.spec for job_row in new]
        weights = {job_row.spec.id: job_row.weights for job_row in new}
        options = {job_row.spec.id: job_row.options for job_row in new}
        self.bridge.submit(lambda: self._make_jobs(specs, weights, source, settings, options),
                           lambda jobs: self._submit_jobs(new, jobs, source),
                           lambda exc: [self._fail(job_row, exc) for job_row in new])
        self._update_buttons()
        return [job_row.key for job_row in new]

    def _make_jobs(self, specs: list[ModelSpec], weights: dict[str, str], source: Source,
                   settings: dict[str, Any], options: dict[str, dict]) -> dict[str, Any]:
        """Worker side: spec id -> Job, or the exception that stops it (input does not fit...)."""
        prepared = prepare_inputs(specs, source, arrays=True)
        jobs: dict[str, Any] = {}
        for spec in specs:
            value = prepared[spec.id]
            if isinstance(value, BaseException):
                jobs[spec.id] = value
                continue
            x, cfa, input_hash = value
            try:
                path = weights[spec.id]
                jobs[spec.id] = Job(x=x, input_hash=input_hash, spec_id=spec.id, cfa=cfa, weights=path or None,
                                    weights_sha256=self._sha256(path) if path else "",
                                    device=settings["device"], precision=settings["precision"],
                                    tile_size=settings["tile_size"], channel=CHANNEL_PREFIX + spec.id,
                                    generation=settings["generation"], options=options.get(spec.id) or None)
            except (OSError, ValueError) as exc:
                jobs[spec.id] = exc
        return jobs

    def _submit_jobs(self, rows: list[JobRow], jobs: dict[str, Any], source: Source) -> None:
        for row in rows:
            if row.state != "preparing":
                continue  # cancelled or superseded while its input was prepared
            job = jobs.get(row.spec.id)
            if isinstance(job, BaseException) or job is None:
                self._fail(row, job or ModelError("no job was prepared"))
                continue
            key = row.key
            relay = self._relay

            def report(p: Progress, key: int = key, relay: _ProgressRelay = relay) -> None:  # engine thread: only emit
                # RuntimeError: the panel is gone; the job goes on to its end or its cancel
                with contextlib.suppress(RuntimeError):
                    relay.arrived.emit(key, p)

            try:
                future = self.engine.submit(job, report)
            except RuntimeError as exc:   # engine shut down
                self._fail(row, exc)
                continue
            row.future, row.weights_sha256 = future, job.weights_sha256
            row.set_state("queued", "queued")
            self.bridge.watch(future, lambda result, r=row: self._job_done(r, result, source),
                              lambda exc, r=row: self._job_error(r, exc))
        self._update_buttons()


    def _after_change(self) -> None:
        self._update_buttons()
        if not any(row.active for row in self.jobs.values()):
            self.jobs_finished.emit()

    # ---------------------------------------------------------------- job rows


    def shutdown(self) -> None:
        """Cancel every job and stop the panel's workers (and its engine, if it made one)."""
        self.cancel_all()
        self._elapsed_timer.stop()
        self.bridge.shutdown()
        if self._owns_engine:
            self.engine.shutdown(wait=False)


