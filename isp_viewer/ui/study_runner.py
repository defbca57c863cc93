"""The observer's screen: blind, randomised presentation of a study, one answer at a time.

Distraction-free on purpose: a uniform dark grey field, the stimulus at an integer
nearest-neighbour zoom, no method names, a progress counter, rating buttons and keys
(1-5; Left/Right or A/B for pairwise; Esc or P pauses; F11 toggles full screen).
Every answer goes through the Qt-free `RatingSession`, which commits it before the next trial.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QImage, QKeyEvent, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QStackedWidget, QVBoxLayout, QWidget

from isp_viewer.core.errors import IspViewerError
from isp_viewer.study.design import (
    ImageProvider,
    Protocol,
    StudyDesign,
    scale_labels,
    stimulus_pixels,
    to_display_uint8,
    zoom_nearest,
)
from isp_viewer.study.session import RatingSession
from isp_viewer.study.store import StudyStore

BACKGROUND = "#3a3a3a"   # dark, neutral grey: no colour cast next to the stimuli
TEXT = "#c8c8c8"

_STYLE = f"""
QWidget#StudyRunner, QWidget#StudyRunner QWidget {{ background: {BACKGROUND}; color: {TEXT}; }}
QPushButton {{ background: #4a4a4a; color: {TEXT}; border: 1px solid #5a5a5a; border-radius: 4px;
              padding: 8px 14px; min-width: 90px; font-size: 14px; }}
QPushButton:hover {{ background: #555555; }}
QPushButton:disabled {{ color: #6a6a6a; }}
QLineEdit {{ background: #2e2e2e; color: {TEXT}; border: 1px solid #5a5a5a; padding: 6px; font-size: 16px; }}
QLabel#caption {{ font-size: 18px; font-weight: bold; }}
QLabel#progress {{ font-size: 13px; color: #9a9a9a; }}
"""

_RATING_KEYS = {Qt.Key.Key_1: 1, Qt.Key.Key_2: 2, Qt.Key.Key_3: 3, Qt.Key.Key_4: 4, Qt.Key.Key_5: 5}
_CHOICE_KEYS = {Qt.Key.Key_Left: "A", Qt.Key.Key_A: "A", Qt.Key.Key_Right: "B", Qt.Key.Key_B: "B"}


def pixmap_from_rgb8(rgb: np.ndarray) -> QPixmap:
    """HxWx3 uint8 -> QPixmap (copied, so the array may go away)."""
    rgb = np.ascontiguousarray(rgb)
    h, w, _ = rgb.shape
    img = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    return QPixmap.fromImage(img.copy())


class StudyRunnerWindow(QWidget):
    """Runs one observer's session of `design`, writing to `store`.

    States: 'observer' (id entry) -> 'grey' <-> 'rating' -> 'done', with 'paused' reachable from
    'grey' and 'rating'. Keys are ignored outside 'rating', so nothing can be rated on the grey field.
    """

    rating_committed = Signal(int)   # trial index, after its transaction committed
    finished = Signal()
    state_changed = Signal(str)

    def __init__(self, store: StudyStore, design: StudyDesign, image_provider: ImageProvider,
                 parent: QWidget | None = None, *, observer_id: str = "") -> None:
        super().__init__(parent)
        self.store = store
        self.design = design
        self.provider = image_provider
        self.session: RatingSession | None = None
        self.state = "observer"
        self.setObjectName("StudyRunner")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(_STYLE)
        self.setWindowTitle(f"Study — {design.name}")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._grey_timer = QTimer(self)
        self._grey_timer.setSingleShot(True)
        self._grey_timer.timeout.connect(self._present)

        self.stack = QStackedWidget(self)
        self.stack.addWidget(self._build_observer_page(observer_id))
        self.stack.addWidget(self._build_trial_page())
        self.stack.addWidget(QWidget())                       # grey interval: nothing but the background
        self.stack.addWidget(self._build_message_page("pause"))
        self.stack.addWidget(self._build_message_page("done"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 16)
        layout.addWidget(self.stack)
        self.resize(900, 640)

    # ------------------------------------------------------------------------ pages
    def _build_observer_page(self, observer_id: str) -> QWidget:
        page = QWidget()
        v = QVBoxLayout(page)
        v.addStretch(1)
        title = QLabel("Image quality study")
        title.setObjectName("caption")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.instructions = QLabel(self._instructions())
        self.instructions.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.instructions.setWordWrap(True)
        self.observer_edit = QLineEdit(observer_id)
        self.observer_edit.setPlaceholderText("Observer id")
        self.observer_edit.setMaximumWidth(320)
        # clicked(bool) and returnPressed() must not reach start(observer_id): both start with the typed id
        self.observer_edit.returnPressed.connect(lambda: self.start())
        self.start_button = QPushButton("Start")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(lambda _checked=False: self.start())
        self.error_label = QLabel("")
        self.error_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.observer_edit)
        row.addWidget(self.start_button)
        row.addStretch(1)
        for w in (title, self.instructions):
            v.addWidget(w)
        v.addLayout(row)
        v.addWidget(self.error_label)
        v.addStretch(2)
        return page

    def _instructions(self) -> str:
        p = self.design.protocol
        if p is Protocol.PAIRWISE:
            what = "Two versions of an image are shown, A and B. Choose the one that looks better " \
                   "(press A or ←, B or →)."
            if self.design.shows_reference:
                what = "Choose the version (A or B) that looks closer to the reference in the middle " \
                       "(press A or ←, B or →)."
        elif p is Protocol.DCR:
            what = "Each test image is shown next to its reference. Rate how annoying the difference is: " + \
                   ", ".join(f"{k} {v}" for k, v in sorted(scale_labels(p).items())) + "."
        else:
            what = "Rate the quality of each image: " + \
                   ", ".join(f"{k} {v}" for k, v in sorted(scale_labels(p).items())) + "."
        return f"{what}\nPress Esc or P to pause at any time. Enter your observer id to begin."

    def _build_trial_page(self) -> QWidget:
        page = QWidget()
        v = QVBoxLayout(page)
        self.progress_label = QLabel("")
        self.progress_label.setObjectName("progress")
        self.progress_label.setAlignment(Qt.AlignmentFlag.AlignRight)
        v.addWidget(self.progress_label)
        v.addStretch(1)
        images = QHBoxLayout()
        images.setSpacing(32)
        images.addStretch(1)
        self.captions: list[QLabel] = []
        self.image_labels: list[QLabel] = []
        for caption in self._captions():
            col = QVBoxLayout()
            cap = QLabel(caption)
            cap.setObjectName("caption")
            cap.setAlignment(Qt.AlignmentFlag.AlignCenter)
            img = QLabel()
            img.setAlignment(Qt.AlignmentFlag.AlignCenter)
            col.addWidget(cap)
            col.addWidget(img)
            images.addLayout(col)
            self.captions.append(cap)
            self.image_labels.append(img)
        images.addStretch(1)
        v.addLayout(images)
        v.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.answer_buttons: list[QPushButton] = []
        if self.design.protocol is Protocol.PAIRWISE:
            choices = [("A", "← A"), ("B", "B →")]
        else:
            choices = [(k, f"{k}\n{label}") for k, label in sorted(scale_labels(self.design.protocol).items())]
        for value, text in choices:
            b = QPushButton(text)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)   # keys go to the window, never "click" a focused button
            b.clicked.connect(lambda _checked=False, v=value: self.answer(v))
            buttons.addWidget(b)
            self.answer_buttons.append(b)
        buttons.addStretch(1)
        v.addLayout(buttons)
        return page

    def _captions(self) -> list[str]:
        """One caption per image slot: positions only, never method names."""
        d = self.design
        if d.protocol is Protocol.PAIRWISE:
            return ["A", "Reference", "B"] if d.shows_reference else ["A", "B"]
        return ["Reference", "Test"] if d.shows_reference else [""]

    def _build_message_page(self, kind: str) -> QWidget:
        page = QWidget()
        v = QVBoxLayout(page)
        v.addStretch(1)
        label = QLabel()
        label.setObjectName("caption")
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        v.addWidget(label)
        if kind == "pause":
            label.setText("Paused\nPress P or Esc to continue")
            b = QPushButton("Resume")
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.clicked.connect(self.resume)
            row = QHBoxLayout()
            row.addStretch(1)
            row.addWidget(b)
            row.addStretch(1)
            v.addLayout(row)
        else:
            self.done_label = label
        v.addStretch(1)
        return page

    # ------------------------------------------------------------------------ flow
    def _set_state(self, state: str) -> None:
        self.state = state
        self.stack.setCurrentIndex({"observer": 0, "rating": 1, "grey": 2, "paused": 3, "done": 4}[state])
        self.state_changed.emit(state)

    def start(self, observer_id: str | None = None) -> bool:
        """Begin (or resume) the given or typed observer's session; False with a message if it cannot."""
        if self.state != "observer":
            return False
        if observer_id is not None:
            self.observer_edit.setText(observer_id)
        try:
            self.session = RatingSession.start_or_resume(self.store, self.design, self.observer_edit.text())
        except IspViewerError as e:
            self.error_label.setText(str(e))
            return False
        if self.session.paused:
            self.session.unpause()
        self.setFocus()
        self._grey_then_present()
        return True

    def _grey_then_present(self) -> None:
        if self.session is None or self.session.finished:
            self._finish()
            return
        interval_ms = int(round(self.design.grey_interval_s * 1000))
        if interval_ms <= 0:
            self._present()
            return
        self._set_state("grey")
        self._grey_timer.start(interval_ms)

    def _present(self) -> None:
        session = self.session
        if session is None or session.paused:
            return
        trial = session.current
        if trial is None:
            self._finish()
            return
        d = self.design
        if d.protocol is Protocol.PAIRWISE:
            ids = [trial.method_id, trial.method_b]
            if d.shows_reference:
                ids.insert(1, d.reference.id)  # type: ignore[union-attr]
        else:
            ids = [d.reference.id, trial.method_id] if d.shows_reference else [trial.method_id]  # type: ignore[union-attr]
        try:
            for label, method_id in zip(self.image_labels, ids):
                rgb = to_display_uint8(stimulus_pixels(d, self.provider, trial.crop_id, method_id))
                label.setPixmap(pixmap_from_rgb8(zoom_nearest(rgb, d.zoom)))
        except IspViewerError as e:
            self.error_label.setText(str(e))
            self._set_state("observer")
            return
        done, total, training = session.progress()
        self.progress_label.setText(f"Practice {done} / {total}" if training else f"{done} / {total}")
        self._set_state("rating")
        self.setFocus()
        session.mark_presented()

    def answer(self, value: int | str) -> bool:
        """Commit an answer to the trial on screen (1-5, or 'A'/'B'); ignored unless rating."""
        if self.state != "rating" or self.session is None:
            return False
        trial = self.session.record(value)
        self.rating_committed.emit(trial.index)
        self._grey_then_present()
        return True

    def pause(self) -> None:
        if self.state in ("rating", "grey") and self.session is not None:
            self._grey_timer.stop()
            self.session.pause()
            self._set_state("paused")

    def resume(self) -> None:
        if self.state == "paused" and self.session is not None:
            self.session.unpause()
            self._grey_then_present()   # the stimulus comes back after a grey interval, clock restarted

    def _finish(self) -> None:
        n = len(self.session.trials) if self.session else 0
        self.done_label.setText(f"Thank you!\nAll {n} answers are saved.")
        self._set_state("done")
        self.finished.emit()

    def toggle_full_screen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()

    # ------------------------------------------------------------------------ keys
    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_F11:
            self.toggle_full_screen()
        elif key in (Qt.Key.Key_Escape, Qt.Key.Key_P) and self.state in ("rating", "grey", "paused"):
            self.resume() if self.state == "paused" else self.pause()
        elif self.state == "rating" and self.design.protocol is Protocol.PAIRWISE and key in _CHOICE_KEYS:
            self.answer(_CHOICE_KEYS[key])
        elif self.state == "rating" and self.design.protocol is not Protocol.PAIRWISE and key in _RATING_KEYS:
            self.answer(_RATING_KEYS[key])
        else:
            super().keyPressEvent(event)

    def closeEvent(self, event) -> None:
        # Closing mid-session is a pause: the session resumes at its first unrated trial.
        self._grey_timer.stop()
        if self.session is not None and self.state in ("rating", "grey"):
            self.session.pause()
        super().closeEvent(event)
