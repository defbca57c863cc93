"""The "Metrics…" button of the analysis dock: checkable catalogue entries, the table's columns.

A metric that cannot run here (LPIPS/DISTS without their ImageNet backbone) is listed greyed,
with the catalogue's reason as its tooltip, so the user learns what to install instead of
meeting an empty column. The ticks live in the session (`Session.metrics`, saved in the .ispv):
`bind` makes the menu write its ticks there and show what the session holds.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QToolButton, QWidget

from isp_viewer.metrics.catalogue import CATALOGUE
from isp_viewer.ui.metric_columns import DEFAULT, OFFERED


class MetricsButton(QToolButton):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setText("Metrics…")
        self.setToolTip("Choose the metrics table's columns")
        self.menu_ = QMenu(self)
        self.menu_.setToolTipsVisible(True)
        self.actions_: dict[str, QAction] = {}
        self._setting = False   # set_chosen ticks several entries: one `changed` for all of them
        for name in OFFERED:
            info = CATALOGUE[name]
            reason = info.unavailable()
            kind = "full reference" if info.needs_reference else "no reference"
            action = QAction(info.title + (" — unavailable" if reason else ""), self.menu_)
            action.setCheckable(True)
            action.setChecked(name in DEFAULT and not reason)
            action.setEnabled(not reason)
            action.setToolTip(reason or f"{info.description} ({kind})")
            action.toggled.connect(self._toggled)
            self.menu_.addAction(action)
            self.actions_[name] = action
        # popup(), not setMenu(): a tool button's own menu runs a blocking exec() on the press
        self.clicked.connect(lambda: self.menu_.popup(self.mapToGlobal(self.rect().bottomLeft())))

    def _toggled(self, _on: bool) -> None:
        if not self._setting:
            self.changed.emit()

    def menu(self) -> QMenu:
        return self.menu_

    def chosen(self) -> tuple[str, ...]:
        """The ticked metrics, in the catalogue's order."""
        return tuple(n for n, a in self.actions_.items() if a.isChecked())

    def set_chosen(self, names) -> None:
        before = self.chosen()
        self._setting = True
        try:
            for name, action in self.actions_.items():
                action.setChecked(name in names and action.isEnabled())
        finally:
            self._setting = False
        if self.chosen() != before:
            self.changed.emit()

    def bind(self, session) -> None:
        """Ticks go to `session.metrics`; the session's choice (a reopened file) ticks the menu.
        A saved metric that cannot run here stays unticked, and the session then holds what is shown."""
        self.set_chosen(session.metrics)
        self.changed.connect(lambda: session.set_metrics(self.chosen()))
        session.metrics_changed.connect(self.set_chosen)
        session.set_metrics(self.chosen())
