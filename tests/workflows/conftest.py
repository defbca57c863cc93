"""Fixtures for workflow tests: the real main window, driven only by input events.

- `main_window`: a MainWindow shown at WINDOW_SIZE offscreen, settings and studies in tmp_path.
- `shots`: saves PNG screenshots into $ISPV_SHOTS/<test> (else /tmp/ispv-shots/<test>), numbered.
- `pane_point`, `click_image`, `drag_image`, `hover_image`: input events at image (reference-grid)
  coordinates inside a pane.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("PySide6", reason="GUI workflow tests need PySide6")

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

WINDOW_SIZE = (1600, 1000)
SHOTS_ROOT = Path(os.environ.get("ISPV_SHOTS", "/tmp/ispv-shots"))


@pytest.fixture
def main_window(qtbot, tmp_path, monkeypatch):
    import pyqtgraph as pg

    from isp_viewer.ui.main_window import MainWindow

    monkeypatch.setenv("HOME", str(tmp_path))   # QSettings (recent files) stay out of the user's home
    monkeypatch.setenv("ISPV_STUDY_DB", str(tmp_path / "study.sqlite"))
    # Synthetic moves come faster than a hand: without pyqtgraph's move-rate limit none is dropped,
    # so drags need no waiting.
    pg.setConfigOptions(imageAxisOrder="row-major", mouseRateLimit=0)
    win = MainWindow()
    qtbot.addWidget(win)
    win.showNormal()
    win.resize(*WINDOW_SIZE)
    qtbot.waitExposed(win)
    win.activateWindow()
    yield win
    win.bridge.shutdown()
    win.close()
    pg.setConfigOptions(mouseRateLimit=100)


class Screenshots:
    """shots(widget, "name") -> folder/NN_name.png (the widget as it is drawn now)."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.count = folder, 0
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.png"):
            old.unlink()

    def __call__(self, widget: QWidget, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}_{name}.png"
        QApplication.processEvents()
        assert widget.grab().save(str(path)), path
        return path


@pytest.fixture
def shots(request) -> Screenshots:
    return Screenshots(SHOTS_ROOT / request.node.name)


def pane_point(pane, x: float, y: float) -> QPoint:
    """Widget coordinates (in pane.view_widget) of image point (x, y) on the reference grid."""
    scene = pane.view.mapViewToScene(QPointF(x, y))
    return pane.view_widget.mapFromScene(scene)


def hover_image(pane, x: float, y: float) -> None:
    QTest.mouseMove(pane.view_widget.viewport(), pane_point(pane, x, y))
    QApplication.processEvents()


def click_image(pane, x: float, y: float, button=Qt.MouseButton.LeftButton) -> None:
    target = pane.view_widget.viewport()
    pos = pane_point(pane, x, y)
    QTest.mouseMove(target, pos)
    QTest.mouseClick(target, button, Qt.KeyboardModifier.NoModifier, pos)
    QApplication.processEvents()


def drag_image(pane, start: tuple[float, float], end: tuple[float, float], steps: int = 8) -> None:
    """Press at image point `start`, move in steps with the left button held, release at `end`.
    (QTest.mouseMove carries no buttons offscreen, so the events are built here.)"""
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QMouseEvent

    target = pane.view_widget.viewport()
    left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    a, b = QPointF(pane_point(pane, *start)), QPointF(pane_point(pane, *end))

    def send(kind, pos: QPointF, button, buttons) -> None:
        QApplication.sendEvent(target, QMouseEvent(kind, pos, QPointF(target.mapToGlobal(pos.toPoint())), button,
                                                   buttons, none))
        QApplication.processEvents()

    send(QEvent.Type.MouseMove, a, Qt.MouseButton.NoButton, Qt.MouseButton.NoButton)
    send(QEvent.Type.MouseButtonPress, a, left, left)
    for i in range(1, steps + 1):
        send(QEvent.Type.MouseMove, a + (b - a) * (i / steps), Qt.MouseButton.NoButton, left)
    send(QEvent.Type.MouseButtonRelease, b, left, Qt.MouseButton.NoButton)


def shown_pixel(pane, x: float, y: float):
    """The colour (r, g, b) the pane draws at image point (x, y), read from pane.grab()."""
    pos = pane.view_widget.mapTo(pane, pane_point(pane, x, y))
    colour = pane.grab().toImage().pixelColor(pos)
    return colour.red(), colour.green(), colour.blue()


def activate(window) -> None:
    """What a click on a window does on a desktop (offscreen Qt does not do it for synthetic clicks):
    make it the active window, so its shortcuts and keys reach it."""
    window.activateWindow()
    window.raise_()
    for _ in range(50):
        QApplication.processEvents()
        if window.isActiveWindow():
            return
    assert window.isActiveWindow(), "the window could not be activated"


def key(window, target, k, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """A key press and release on `target` inside the (activated) window."""
    activate(window)
    QTest.keyClick(target, k, modifier)
    QApplication.processEvents()


@pytest.fixture
def h_window(qtbot, tmp_path, monkeypatch):
    """The window at the default size, as tests/workflows/h_driver.py opens it; export dialogs closed after."""
    from isp_viewer.ui.export_dialog import ExportDialog
    from tests.workflows.h_driver import open_window, visible_dialogs

    win = open_window(qtbot, tmp_path, monkeypatch)
    yield win
    for dialog in visible_dialogs(ExportDialog):
        dialog.close()
    win.close()


@pytest.fixture
def weighted_window(qtbot, tmp_path, monkeypatch, shared):
    """The window at the default size with ../shared/weights on the weights path (official checkpoints)."""
    from tests.workflows.h_driver import open_window

    win = open_window(qtbot, tmp_path, monkeypatch, weights=shared / "weights")
    yield win
    win.close()
