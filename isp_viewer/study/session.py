"""One observer's pass through a study, Qt-free: the runner window drives it, tests drive it directly.

Every answer is committed to the store (one transaction) before `record` returns, so a crash or a
closed laptop loses nothing that was acknowledged; `RatingSession.resume` continues at the first
unrated trial.
"""

from __future__ import annotations

import numbers
import time
from collections import deque

from isp_viewer.core.errors import InputError
from isp_viewer.study.design import Protocol, StudyDesign, Trial, presentation_order
from isp_viewer.study.store import StudyStore


class RatingSession:
    """State of a session: its trials (the observer's reproducible order), position and pause flag.

    Use `start` for a new session or `resume` to continue one; do not call the constructor directly.
    Response times are measured from `mark_presented()` (call it when the stimulus appears) unless
    `record` is given one; time spent paused does not count.
    """

    def __init__(self, store: StudyStore, design: StudyDesign, session_id: str, observer_id: str,
                 paused: bool = False) -> None:
        self.store = store
        self.design = design
        self.session_id = session_id
        self.observer_id = observer_id
        self.trials: list[Trial] = presentation_order(design, observer_id)
        rated = store.rated_indices(session_id)
        self._unrated = deque(t.index for t in self.trials if t.index not in rated)
        self._paused = paused
        self._presented_at: float | None = None

    # --- construction ---------------------------------------------------------------------
    @classmethod
    def start(cls, store: StudyStore, design: StudyDesign, observer_id: str) -> RatingSession:
        observer_id = observer_id.strip()
        if not observer_id:
            raise InputError("Enter an observer id before starting")
        store.save_study(design)
        return cls(store, design, store.create_session(design.study_id, observer_id), observer_id)

    @classmethod
    def resume(cls, store: StudyStore, session_id: str) -> RatingSession:
        info = store.session_info(session_id)
        return cls(store, store.study(info.study_id), info.id, info.observer_id, info.paused)

    @classmethod
    def start_or_resume(cls, store: StudyStore, design: StudyDesign, observer_id: str) -> RatingSession:
        """Continue this observer's latest unfinished session of the study, or start a new one."""
        for info in reversed(store.sessions(design.study_id, observer_id.strip())):
            if info.finished is None:
                return cls.resume(store, info.id)
        return cls.start(store, design, observer_id)

    # --- state ----------------------------------------------------------------------------
    @property
    def study_id(self) -> str:
        return self.design.study_id

    @property
    def position(self) -> int:
        """Index of the trial to show now (the first unrated one); len(trials) when finished."""
        return self._unrated[0] if self._unrated else len(self.trials)

    @property
    def current(self) -> Trial | None:
        return self.trials[self._unrated[0]] if self._unrated else None

    @property
    def finished(self) -> bool:
        return not self._unrated

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def n_done(self) -> int:
        return len(self.trials) - len(self._unrated)

    def progress(self) -> tuple[int, int, bool]:
        """(number of the current trial counting from 1, total, is training) within its part of the
        session: training items and test items are counted separately, as observers see them."""
        trial = self.current
        training = [t for t in self.trials if t.training]
        if trial is None:
            n = len(self.trials) - len(training)
            return n, n, False
        part = training if trial.training else [t for t in self.trials if not t.training]
        return part.index(trial) + 1, len(part), trial.training

    # --- actions --------------------------------------------------------------------------
    def mark_presented(self) -> None:
        self._presented_at = time.monotonic()

    def pause(self) -> None:
        if not self._paused:
            self._paused = True
            self._presented_at = None  # the clock restarts when the stimulus is shown again
            self.store.set_paused(self.session_id, True)

    def unpause(self) -> None:
        if self._paused:
            self._paused = False
            self.store.set_paused(self.session_id, False)

    def record(self, value: int | str, response_time: float | None = None) -> Trial:
        """Commit the answer to the current trial and move on; returns the trial answered.

        value: 1..5 for ACR/DCR; for pairwise the chosen method id, or 'A'/'B' for the left/right crop.
        """
        if self._paused:
            raise InputError("The session is paused; resume it before rating")
        trial = self.current
        if trial is None:
            raise InputError("This session is already complete")
        rating, choice = self._parse(trial, value)
        if response_time is None and self._presented_at is not None:
            response_time = time.monotonic() - self._presented_at
        self.store.add_rating(self.session_id, trial.index, trial.stimulus, trial.crop_id, trial.method_id,
                              trial.method_b, trial.repetition, trial.training, self.design.protocol, rating,
                              choice, response_time, time.time())
        self._unrated.popleft()
        self._presented_at = None
        if not self._unrated:
            self.store.set_finished(self.session_id)
        return trial

    def _parse(self, trial: Trial, value: int | str) -> tuple[int | None, str | None]:
        if self.design.protocol is Protocol.PAIRWISE:
            side = {"A": trial.method_id, "B": trial.method_b}
            choice = side.get(str(value).upper(), str(value))
            if choice not in (trial.method_id, trial.method_b):
                raise InputError(f"Choose A or B (got {value!r})")
            return None, choice
        text = value.strip() if isinstance(value, str) else (
            str(int(value)) if isinstance(value, numbers.Integral) and not isinstance(value, bool) else "")
        if text not in ("1", "2", "3", "4", "5"):
            raise InputError(f"Ratings are whole numbers from 1 to 5 (got {value!r})")
        return int(text), None
