"""Driving the real main window as a researcher does: menus, buttons, keys, drops and file dialogs
answered through their widgets. Screenshots: the `shots` fixture of conftest.py."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog, QDialogButtonBox, QFileDialog, QLineEdit, QMenu, QWidget


def click(widget: QWidget, pos: QPoint | None = None, button=Qt.MouseButton.LeftButton) -> None:
    QTest.mouseClick(widget, button, Qt.KeyboardModifier.NoModifier, pos or widget.rect().center())


def choose_menu(qtbot, window, top: str, entry: str) -> None:
    """Open menu `top` in the menu bar with a click, then click the entry starting with `entry`."""
    bar = window.menuBar()
    action = next(a for a in bar.actions() if a.text().replace("&", "") == top)
    click(bar, bar.actionGeometry(action).center())
    menu: QMenu = action.menu()
    qtbot.waitUntil(menu.isVisible, timeout=3000)
    for path in entry.split(" > "):
        item = next(a for a in menu.actions() if a.text().replace("&", "").startswith(path))
        click(menu, menu.actionGeometry(item).center())
        if item.menu() is not None:
            menu = item.menu()
            qtbot.waitUntil(menu.isVisible, timeout=3000)


def drop_files(window, paths) -> None:
    """What a file manager's drag and drop delivers to the window."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = QPointF(window.rect().center())
    enter = QDragEnterEvent(pos.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)


def answer_file_dialog(path: Path, timeout_ms: int = 20000) -> list[str]:
    """When the next file dialog opens, answer it as a person does: type the folder and press Enter
    (the dialog moves there), then type the file name and press Enter or the accept button.
    Returns a list that receives the dialog's title (to assert it was answered).

    Typing the whole path in one go is not reliable on a loaded machine: while the dialog's file
    list loads in the background, its completer selects a folder it passes on the way, the
    selection wins over the typed text, and the dialog moves into that folder and clears the
    name instead of accepting (seen under CI load in test_metric_choice_session)."""
    seen: list[str] = []
    folder, name_only = str(path.parent), path.name

    def find():
        return next((w for w in QApplication.topLevelWidgets() if isinstance(w, QFileDialog) and w.isVisible()), None)

    def type_into(name: QLineEdit, text: str) -> None:
        name.selectAll()
        QTest.keyClicks(name, text)

    def press(dialog, left: int) -> None:
        from shiboken6 import isValid

        if not isValid(dialog) or not dialog.isVisible():
            return   # answered: the static dialog is gone
        if left <= 0:
            dialog.reject()   # never leave a modal dialog open: the test fails on its wait instead of hanging
            return
        name = dialog.findChild(QLineEdit, "fileNameEdit")
        popup = name.completer().popup() if name.completer() is not None else None
        if popup is not None and popup.isVisible():   # the path completion's list would eat the key or click
            QTest.keyClick(popup, Qt.Key.Key_Escape)
        if Path(dialog.directory().absolutePath()) != path.parent:
            if name.text() != folder:
                type_into(name, folder)
            QTest.keyClick(name, Qt.Key.Key_Return)   # a folder typed and entered: the dialog moves there
        elif name.text() != name_only:
            type_into(name, name_only)
        elif (left // 200) % 2:   # alternate: a late completion list can swallow either the Enter or the click
            QTest.keyClick(name, Qt.Key.Key_Return)
        else:
            buttons = dialog.findChild(QDialogButtonBox)
            accept = buttons.button(QDialogButtonBox.StandardButton.Save) or \
                buttons.button(QDialogButtonBox.StandardButton.Open)
            if accept is not None and accept.isEnabled():
                click(accept)
        QTimer.singleShot(200, lambda: press(dialog, left - 200))

    def attempt(left: int) -> None:
        dialog = find()
        if dialog is None:
            if left > 0:
                QTimer.singleShot(50, lambda: attempt(left - 50))
            return
        seen.append(dialog.windowTitle())
        QTimer.singleShot(200, lambda: press(dialog, max(left, 10000)))

    QTimer.singleShot(50, lambda: attempt(timeout_ms))
    return seen


def visible_dialogs(kind=QDialog) -> list:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()]


def wait_idle(qtbot, window, timeout=120000) -> None:
    qtbot.waitUntil(lambda: window.bridge.pending == 0, timeout=timeout)
    QApplication.processEvents()   # let the last result's repaint run before the caller reads pixels


def ready_items(window) -> list:
    return [i for i in window.session.items.values() if i.status == "ready"]


def without_run_time(label: str) -> str:
    """A pane label without a network's run time and cache note, which differ from run to run."""
    import re

    return re.sub(r" · [\d.]+ s( · cached)?$", "", label)


DEMO_PANES = 5   # ground truth, bilinear, Malvar, Menon, demosaicnet


def open_demo(qtbot, window, timeout: int = 120000) -> None:
    """File > Open demo by clicks, then wait until its five panes are ready and nothing is pending."""
    choose_menu(qtbot, window, "File", "Open demo")
    qtbot.waitUntil(lambda: len(ready_items(window)) == DEMO_PANES, timeout=timeout)
    wait_idle(qtbot, window)


def open_window(qtbot, tmp_path: Path, monkeypatch, weights: Path | None = None):
    """The app's main window at its default size, shown, with settings and studies kept in tmp_path."""
    import pyqtgraph as pg

    from isp_viewer.ui.main_window import MainWindow

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("ISPV_STUDY_DB", str(tmp_path / "study.sqlite"))
    if weights is not None:
        monkeypatch.setenv("ISPV_WEIGHTS", str(weights))
    pg.setConfigOptions(imageAxisOrder="row-major")
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    return win


def choose_combo(qtbot, combo, text: str) -> None:
    """Open a combo box's list with a click and click the entry `text`."""
    click(combo)
    view = combo.view()
    qtbot.waitUntil(view.isVisible, timeout=3000)
    index = combo.findText(text)
    assert index >= 0, f"{text!r} not in {[combo.itemText(i) for i in range(combo.count())]}"
    step = Qt.Key.Key_Down if index > combo.currentIndex() else Qt.Key.Key_Up
    for _ in range(abs(index - combo.currentIndex())):   # the open list follows the arrow keys
        QTest.keyClick(view, step)
    QTest.keyClick(view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: combo.currentIndex() == index and not view.isVisible(), timeout=3000)


def check_box(checkbox) -> None:
    """Click a check box where its indicator is."""
    click(checkbox, QPoint(8, checkbox.height() // 2))


def hover(widget: QWidget, pos: QPoint) -> None:
    """A mouse move without buttons at `pos` (QTest.mouseMove only moves the cursor offscreen)."""
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QMouseEvent

    local = QPointF(pos)
    event = QMouseEvent(QEvent.Type.MouseMove, local, QPointF(widget.mapToGlobal(pos)), Qt.MouseButton.NoButton,
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def drag(widget: QWidget, start: QPoint, end: QPoint, steps: int = 8) -> None:
    """Press, move in steps with the button held, release (QTest's moves carry no buttons offscreen)."""
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QMouseEvent

    left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier

    def send(kind, pos: QPointF, button, buttons) -> None:
        QApplication.sendEvent(widget, QMouseEvent(kind, pos, QPointF(widget.mapToGlobal(pos.toPoint())), button,
                                                   buttons, none))

    a, b = QPointF(start), QPointF(end)
    send(QEvent.Type.MouseButtonPress, a, left, left)
    for i in range(1, steps + 1):
        send(QEvent.Type.MouseMove, a + (b - a) * (i / steps), Qt.MouseButton.NoButton, left)
        QTest.qWait(15)   # pyqtgraph rate-limits mouse moves (about 100 Hz): a hand moves no faster
    send(QEvent.Type.MouseButtonRelease, b, left, Qt.MouseButton.NoButton)


def pane_point(pane, x: float, y: float) -> QPoint:
    """Widget position (in the pane's graphics viewport) of reference-grid pixel coordinates."""
    scene = pane.view.mapViewToScene(QPointF(x, y))
    p = pane.view_widget.mapFromScene(scene)
    return QPoint(int(p.x()), int(p.y()))


def click_tab(window, text: str) -> None:
    """Raise a tabbed dock by clicking its tab."""
    from PySide6.QtWidgets import QTabBar

    for bar in window.findChildren(QTabBar):
        for i in range(bar.count()):
            if bar.tabText(i) == text:
                click(bar, bar.tabRect(i).center())
                return
    raise AssertionError(f"no tab {text!r}")


def type_into(spin_or_edit, text: str, finish=Qt.Key.Key_Return) -> None:
    """Click a field, select what is there, type `text`, then press `finish` (Tab inside dialogs,
    where Return would press the default button)."""
    click(spin_or_edit)
    QTest.keyClick(spin_or_edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(spin_or_edit, text)
    QTest.keyClick(spin_or_edit, finish)
