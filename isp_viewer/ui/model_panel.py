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

import os
import time
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QFormLayout, QFrame, QGroupBox, QHBoxLayout,
                               QLabel, QMenu, QProgressBar, QPushButton, QScrollArea, QSizePolicy, QSpinBox,
                               QToolButton, QVBoxLayout, QWidget)

from isp_viewer.core.errors import IspViewerError, ModelError, WeightsError
from isp_viewer.core.image import Image
from isp_viewer.engine import DeviceInfo, Engine, Job, Progress, Result, ResultCache, hash_input
from isp_viewer.engine.devices import choose_device
from isp_viewer.io.raw import RawMosaic
from isp_viewer.models.adapters import finish_output, prepare_input
from isp_viewer.models.loading import WEIGHT_SUFFIXES, sha256_of_file
from isp_viewer.models.registry import all_specs, find_weights, packaged_weight
from isp_viewer.models.spec import InputKind, ModelSpec, Task
from isp_viewer.ui.bridge import FutureBridge

Source = Any  # RawMosaic | Image (see models.adapters.Source)
WeightsFinder = Callable[[ModelSpec], "Path | None"]
WeightsChecker = Callable[[ModelSpec, str], None]

DEVICES = (("Auto", "auto"), ("CPU", "cpu"), ("CUDA", "cuda"), ("MPS", "mps"))
PRECISIONS = (("Auto", "auto"), ("fp32", "fp32"), ("fp16", "fp16"), ("bf16", "bf16"))
DTYPE_SHORT = {"float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}
NO_PUBLIC_WEIGHTS = "no public weights"
GREY = "color: #808080;"
RED = "color: #c0392b;"
CHANNEL_PREFIX = "model-panel/"
ELAPSED_TICK_MS = 250
REASON_CHARS = 160


@dataclass(frozen=True, eq=False)
class ModelResult:
    """One finished network run, as handed to the owner on the GUI thread.

    image: the output on the reference grid (`finish_output`), labelled
    "network · weights file · device · dtype · seconds"; result: the engine's `Result` (raw output,
    placement reason, tiles, notes); weights: the checkpoint path that ran; source: the input.
    """

    model_id: str
    image: Image
    result: Result
    weights: str
    label: str
    source: Any = None


# --- worker-side helpers (no widgets) -------------------------------------------------------------


def one_line(exc: BaseException) -> str:
    """A message for a row: our errors are already one user-facing line; others get their type."""
    if isinstance(exc, IspViewerError):
        return str(exc)
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def elide(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def short_reason(spec: ModelSpec, message: str) -> str:
    """The reason without the network's name in front ("needs an RGB image; ...")."""
    for prefix in (f"{spec.name} ", f"{spec.id}: "):
        if message.startswith(prefix):
            return message[len(prefix):]
    return message


def prepare_inputs(specs: Sequence[ModelSpec], source: Source, *, arrays: bool) -> dict[str, Any]:
    """spec id -> (x, cfa, input_hash) (arrays=True), True (arrays=False), or the ModelError.

    prepare_input's outcome depends only on the spec's input kind and minimum size (the name only
    appears in messages), so a kind is prepared once: a spec whose min_size is no larger than one
    that already succeeded for its kind reuses that success instead of recomputing a full-frame
    array (seconds on a large RAW).
    """
    out: dict[str, Any] = {}
    done: dict[InputKind, tuple[int, Any]] = {}   # kind -> (min_size that succeeded, value)
    for spec in sorted(specs, key=lambda s: s.min_size):
        known = done.get(spec.input_kind)
        if known is not None and spec.min_size <= known[0]:
            out[spec.id] = known[1]
            continue
        try:
            x, cfa = prepare_input(spec, source)
        except (IspViewerError, ValueError) as exc:
            out[spec.id] = exc
            continue
        value = (x, cfa, hash_input(x, cfa)) if arrays else True
        done[spec.input_kind] = (spec.min_size, value)
        out[spec.id] = value
    return out


def check_weights_strictly(spec: ModelSpec, path: str) -> None:
    """Load `path` into spec's network strictly; raise WeightsError with one line if it does not fit,
    naming the networks the file does fit when there are any."""
    from isp_viewer.models.registry import detect_checkpoint, load_network

    try:
        load_network(spec, path)
    except (WeightsError, ModelError) as exc:
        try:
            fits = [s.name for s in detect_checkpoint(path) if s.id != spec.id]
        except IspViewerError:
            fits = []
        if not fits:
            raise
        # What the file is comes first: the key-by-key details are long and get elided in the row.
        raise WeightsError(f"{Path(path).name} fits {' / '.join(fits)}, not {spec.name}: {exc}") from None


class _Sha256Memo:
    """sha256 of checkpoint files, remembered per (path, size, mtime): hashing 100 MB takes a while."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, int, int], str] = {}

    def __call__(self, path: str) -> str:
        p = Path(path)
        if not p.is_file():
            return ""  # a label such as "crc32-fill" or a loader-specific name: not cached by the engine
        st = p.stat()
        key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
        if key not in self._known:
            self._known[key] = sha256_of_file(p)
        return self._known[key]


# --- one network: checkbox, badge, weights ----------------------------------------------------------


def missing_weights_text(spec: ModelSpec) -> str:
    notes = " ".join([spec.notes] + [wf.note for wf in spec.weights]).lower()
    if NO_PUBLIC_WEIGHTS in notes:
        return "no public weights — load your own"
    names = [n for wf in spec.weights for n in wf.names]
    if not names:
        return "no weights: load a checkpoint"
    return f"no weights: put {' / '.join(names)} in weights/"


class ModelRow(QWidget):
    """A network variant: [x] name [NC] ... [Load weights…], then grey lines for weights and reasons.

    The checkbox is enabled exactly when `available()`; the "Load weights…" button always works,
    so a network without weights can be given some.
    """

    load_requested = Signal(str)     # spec id
    forget_requested = Signal(str)   # spec id
    toggled = Signal()

    def __init__(self, spec: ModelSpec, found: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.found = found                      # from the weights folders / the wheel
        self.packaged = packaged_weight(spec)
        self.chosen: str | None = None          # picked by the user
        self.chosen_error: str | None = None    # strict load failed
        self.checking_weights = False
        self.input_reason: str | None = "no input open"
        self.checking_input = False

        self.checkbox = QCheckBox(spec.name)
        self.checkbox.toggled.connect(lambda _on: self.toggled.emit())
        self.badge = QLabel("NC")
        self.badge.setStyleSheet("QLabel { background: #e67e22; color: white; border-radius: 3px;"
                                 " padding: 0px 4px; font-weight: bold; font-size: 9px; }")
        self.badge.setToolTip(f"Non-commercial licence: {spec.license}")
        self.badge.setVisible(spec.non_commercial)
        self.load_button = QToolButton()
        self.load_button.setText("Load weights…")
        self.load_button.setToolTip(f"Choose a checkpoint file for {spec.name}")
        self.load_button.setAutoRaise(True)
        self.load_button.clicked.connect(lambda: self.load_requested.emit(self.spec.id))
        self.weights_label = QLabel()
        self.weights_label.setStyleSheet(GREY + " font-size: 10px;")
        self.reason_label = QLabel()
        self.reason_label.setStyleSheet(GREY + " font-size: 10px;")
        self.reason_label.setWordWrap(True)
        for label in (self.weights_label, self.reason_label):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.checkbox)
        top.addWidget(self.badge)
        top.addStretch(1)
        weights_line = QHBoxLayout()
        weights_line.setContentsMargins(0, 0, 0, 0)
        weights_line.addWidget(self.weights_label, 1)
        weights_line.addWidget(self.load_button, 0, Qt.AlignmentFlag.AlignTop)
        lines = QVBoxLayout()
        lines.setContentsMargins(22, 0, 0, 0)  # under the checkbox's text, not its box
        lines.setSpacing(0)
        lines.addLayout(weights_line)
        lines.addWidget(self.reason_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 1, 2, 3)
        layout.setSpacing(0)
        layout.addLayout(top)
        layout.addLayout(lines)

        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._context_menu)
        self.refresh()

    # state ----------------------------------------------------------------------------------------
    @property
    def model_id(self) -> str:
        return self.spec.id

    def weights_path(self) -> str | None:
        """The checkpoint a run would use: the user's choice, else the one found."""
        if self.chosen:
            return self.chosen
        return str(self.found) if self.found is not None else None

    def weights_reason(self) -> str | None:
        if self.chosen:
            if self.checking_weights:
                return "checking weights…"
            if self.chosen_error:
                return f"weights do not fit: {self.chosen_error}"
            return None
        return None if self.found is not None else missing_weights_text(self.spec)

    def reasons(self) -> list[str]:
        """Why the network cannot run now (empty when it can)."""
        weights = self.weights_reason()
        return ([weights] if weights is not None else []) + self.input_reasons()

    def available(self) -> bool:
        return not self.reasons()

    def is_selected(self) -> bool:
        """Checked and able to run."""
        return self.checkbox.isChecked() and self.available()

    # display --------------------------------------------------------------------------------------
    def input_reasons(self) -> list[str]:
        if self.checking_input:
            return ["checking input…"]
        return [self.input_reason] if self.input_reason else []

    def refresh(self) -> None:
        """The weights line says which file (or why none fits); the reason line why the input does not."""
        reasons = self.reasons()
        self.checkbox.setEnabled(not reasons)
        weights_problem = self.weights_reason()
        path = self.weights_path()
        if weights_problem is None and path is not None:
            if self.chosen:
                where = "loaded by you, strict check passed"
            elif self.packaged is not None and Path(path) == self.packaged:
                where = f"packaged with {self.spec.packaged_weights.split(':', 1)[0]}"
            else:
                where = "found in weights/"
            text, tip = f"weights: {Path(path).name} · {where}", path
        elif self.chosen and self.checking_weights:
            text, tip = f"weights: {Path(self.chosen).name} · checking…", self.chosen
        else:
            # A strict-load error lists keys and can run long: the row shows its start, the tooltip all.
            text, tip = elide(weights_problem or "", REASON_CHARS), weights_problem or ""
        self.weights_label.setText(text)
        self.weights_label.setToolTip(tip)
        self.weights_label.setStyleSheet((RED if self.chosen_error else GREY) + " font-size: 10px;")
        input_reasons = self.input_reasons()
        self.reason_label.setText("\n".join(elide(r, REASON_CHARS) for r in input_reasons))
        self.reason_label.setVisible(bool(input_reasons))
        tip = self._describe()
        if reasons:
            tip = "Cannot run: " + "; ".join(reasons) + "\n\n" + tip
        self.checkbox.setToolTip(tip)
        self.setToolTip(tip)

    def _describe(self) -> str:
        spec = self.spec
        lines = [f"{spec.name} ({spec.id})", f"Task: {spec.task.value}", f"Input: {spec.input_kind.value}"]
        if spec.output_scale != 1:
            lines.append(f"Output scale: ×{spec.output_scale}")
        lines.append(f"Licence: {spec.license or 'not stated'}" + (" — non-commercial" if spec.non_commercial else ""))
        if spec.paper:
            lines.append(f"Paper: {spec.paper}")
        if not spec.tiling_safe:
            lines.append("Runs whole-frame (not tile-safe)")
        return "\n".join(lines)

    def _context_menu(self, pos) -> None:
        menu = QMenu(self)
        menu.addAction("Load weights…", lambda: self.load_requested.emit(self.spec.id))
        forget = menu.addAction("Use the default weights", lambda: self.forget_requested.emit(self.spec.id))
        forget.setEnabled(self.chosen is not None)
        menu.exec(self.mapToGlobal(pos))


# --- one submitted job: progress, status, cancel ----------------------------------------------------


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


# --- the panel --------------------------------------------------------------------------------------


class _ProgressRelay(QObject):
    """Lives on the GUI thread; `arrived` emitted from an engine worker is queued to it."""

    arrived = Signal(int, object)   # job key, Progress


class ModelPanel(QWidget):
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
        self._sha256 = _Sha256Memo()
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

    def _build_settings(self) -> QWidget:
        box = QGroupBox("Run settings")
        form = QFormLayout(box)
        form.setContentsMargins(6, 4, 6, 4)
        self.device_combo = QComboBox()
        for text, value in DEVICES:
            self.device_combo.addItem(text, value)
        self.precision_combo = QComboBox()
        for text, value in PRECISIONS:
            self.precision_combo.addItem(text, value)
        self.tile_spin = QSpinBox()
        self.tile_spin.setRange(0, 8192)
        self.tile_spin.setSingleStep(64)
        self.tile_spin.setSpecialValueText("Auto")
        self.tile_spin.setSuffix(" px")
        self.tile_spin.setToolTip("Core tile side in input pixels (Auto: the device's default). "
                                  "Tiles shrink by themselves after an out-of-memory.")
        self.placement_label = QLabel()
        self.placement_label.setStyleSheet(GREY + " font-size: 10px;")
        self.placement_label.setWordWrap(True)
        form.addRow("Device", self.device_combo)
        form.addRow("Precision", self.precision_combo)
        form.addRow("Tile size", self.tile_spin)
        form.addRow(self.placement_label)
        self.device_combo.currentIndexChanged.connect(lambda _i: self._update_device_choices())
        self.precision_combo.currentIndexChanged.connect(lambda _i: self._update_placement_label())
        return box

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

    # ---------------------------------------------------------------- devices and precision
    def device_request(self) -> str:
        return str(self.device_combo.currentData())

    def precision_request(self) -> str:
        return str(self.precision_combo.currentData())

    def tile_size(self) -> int | None:
        return self.tile_spin.value() or None

    def _device_missing(self, value: str) -> str | None:
        if value == "cuda" and not self.devices.cuda:
            return "No CUDA GPU found by torch (or this torch build has no CUDA)"
        if value == "mps" and not self.devices.mps:
            return "No Apple MPS device found by torch"
        return None

    def _set_item_enabled(self, combo: QComboBox, index: int, why_not: str | None, tip: str = "") -> None:
        item = combo.model().item(index)
        item.setEnabled(why_not is None)
        combo.setItemData(index, why_not or tip, Qt.ItemDataRole.ToolTipRole)

    def _update_device_choices(self) -> None:
        for i, (_text, value) in enumerate(DEVICES):
            self._set_item_enabled(self.device_combo, i, self._device_missing(value))
        if self._device_missing(self.device_request()):
            self.device_combo.setCurrentIndex(0)
            return  # the index change calls back here
        device, _why = choose_device(self.device_request(), self.devices)
        for i, (_text, value) in enumerate(PRECISIONS):
            why_not = None
            if value in ("fp16", "bf16") and device == "cpu":
                why_not = "The CPU runs fp32"
            elif value == "bf16" and not (self.devices.cuda_bf16 if device == "cuda" else self.devices.mps_bf16):
                why_not = f"This {device.upper()} device lacks bf16"
            tip = "Half precision only for networks whose descriptor allows it; others run fp32" \
                if value in ("fp16", "bf16") else ""
            self._set_item_enabled(self.precision_combo, i, why_not, tip)
        current = self.precision_combo.currentIndex()
        if not self.precision_combo.model().item(current).isEnabled():
            self.precision_combo.setCurrentIndex(0)
        self._update_placement_label()

    def _update_placement_label(self) -> None:
        device, why = choose_device(self.device_request(), self.devices)
        precision = self.precision_request()
        if device == "cpu":
            dtype = "fp32"
        elif precision == "auto":
            dtype = "fp16/bf16 where the network allows it, else fp32"
        else:
            dtype = f"{precision} where the network allows it, else fp32"
        self.placement_label.setText(f"Runs on {device.upper()} ({why}) · {dtype}")

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
        new: list[JobRow] = []
        for row in rows:
            for old in self.jobs.values():
                if old.spec.id == row.spec.id and old.active:
                    old.superseded = True
                    if old.state == "preparing":
                        old.set_state("cancelled", "cancelled (superseded by a newer run)")
            job_row = self._add_job_row(row.spec, row.weights_path() or "")
            new.append(job_row)
        specs = [job_row.spec for job_row in new]
        weights = {job_row.spec.id: job_row.weights for job_row in new}
        self.bridge.submit(lambda: self._make_jobs(specs, weights, source, settings),
                           lambda jobs: self._submit_jobs(new, jobs, source),
                           lambda exc: [self._fail(job_row, exc) for job_row in new])
        self._update_buttons()
        return [job_row.key for job_row in new]

    def _make_jobs(self, specs: list[ModelSpec], weights: dict[str, str], source: Source,
                   settings: dict[str, Any]) -> dict[str, Any]:
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
                                    generation=settings["generation"])
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

            def report(p: Progress, key: int = key) -> None:   # engine thread: only emit
                try:
                    relay.arrived.emit(key, p)
                except RuntimeError:
                    pass  # the panel is gone; the job goes on to its end or its cancel

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
        label = result_label(row.spec, row.weights, result)
        meta = {"method": "network", "model": row.spec.id, "weights": row.weights,
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

    def _after_change(self) -> None:
        self._update_buttons()
        if not any(row.active for row in self.jobs.values()):
            self.jobs_finished.emit()

    # ---------------------------------------------------------------- job rows
    def _add_job_row(self, spec: ModelSpec, weights: str) -> JobRow:
        self._next_key += 1
        row = JobRow(self._next_key, spec, weights)
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

    def shutdown(self) -> None:
        """Cancel every job and stop the panel's workers (and its engine, if it made one)."""
        self.cancel_all()
        self._elapsed_timer.stop()
        self.bridge.shutdown()
        if self._owns_engine:
            self.engine.shutdown(wait=False)


# --- labels -----------------------------------------------------------------------------------------


def short_dtype(dtype: str) -> str:
    return DTYPE_SHORT.get(dtype, dtype)


def result_label(spec: ModelSpec, weights: str, result: Result) -> str:
    """"network · weights file · device · dtype · seconds" (plus "cached" for a cache hit)."""
    parts = [spec.name, Path(weights).name if weights else "default weights", result.device,
             short_dtype(result.dtype), f"{result.seconds:.1f} s"]
    if result.from_cache:
        parts.append("cached")
    return " · ".join(parts)


def describe_source(source: Source | None) -> str:
    if source is None:
        return "No input open"
    if isinstance(source, RawMosaic):
        name = Path(source.path).name or "mosaic"
        kind = "X-Trans" if source.is_xtrans else f"Bayer {source.cfa}"
        return f"Input: {name} · {kind} mosaic · {source.width}×{source.height}"
    if isinstance(source, Image):
        name = Path(source.source).name if source.source else (source.label or "image")
        kind = "linear RGB" if source.linear else "sRGB"
        return f"Input: {name} · {kind} image · {source.width}×{source.height}"
    return f"Input: {type(source).__name__}"
