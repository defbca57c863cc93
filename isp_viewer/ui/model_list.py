"""One row per network in the model panel: checkbox, availability badge, weights, reasons."""


from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QMenu, QToolButton, QVBoxLayout, QWidget

from isp_viewer.engine.run_requests import GREY, REASON_CHARS, RED, elide, missing_weights_text
from isp_viewer.models.registry import packaged_weight
from isp_viewer.models.spec import ModelSpec


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

