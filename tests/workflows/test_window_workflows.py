"""The main window as a researcher uses it, driven by input events on real files from ../shared."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest.importorskip("PySide6", reason="GUI workflow tests need PySide6")

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.workflows.conftest import activate, click_image, drag_image, key, shown_pixel
from tests.workflows.h_driver import choose_menu, drop_files, ready_items, visible_dialogs


def _wait_ready(qtbot, win, n, timeout=120000):
    qtbot.waitUntil(lambda: len(ready_items(win)) >= n and win.bridge.pending == 0, timeout=timeout)
    qtbot.waitUntil(lambda: all(p.display is not None for p in win.panes.values()), timeout=timeout)


def test_two_shapes_keep_their_aspect_and_bad_file_gives_one_message(qtbot, main_window, shots, data):
    win = main_window
    drop_files(win, [data / "raw" / "Blackmagic.dng", data / "raw" / "RAW_KODAK_DC50_é.KDC"])
    _wait_ready(qtbot, win, 2)
    shots(win, "two_shapes_opened")
    for pane in win.panes.values():
        item = win.session.items[pane.item_id]
        rect = pane.image_item.mapRectToParent(pane.image_item.boundingRect())
        h, w = item.image.height, item.image.width
        aspect = (rect.width() / w) / (rect.height() / h)
        assert abs(aspect - 1.0) < 0.01, (item.label, rect, w, h)
    assert win.session.reference.source_path.endswith("Blackmagic.dng")   # the first opened file
    before = len(win.panes)
    drop_files(win, [data / "bad" / "random_bytes.NEF"])
    qtbot.waitUntil(lambda: len(visible_dialogs()) >= 1, timeout=30000)
    qtbot.waitUntil(lambda: win.bridge.pending == 0, timeout=30000)
    shots(win, "bad_file_message")
    assert len(visible_dialogs()) == 1 and "random_bytes.NEF" in win.last_error
    QTest.keyClick(visible_dialogs()[0], Qt.Key.Key_Return)
    # the window keeps working: the bad pane closes with Ctrl+W, the others stay
    bad = next(i for i, it in win.session.items.items() if it.status == "error")
    viewport = win.panes[bad].view_widget.viewport()
    QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, viewport.rect().center())
    qtbot.waitUntil(lambda: win.current_id == bad, timeout=3000)
    key(win, win, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(win.panes) == before, timeout=5000)


def test_flicker_and_swipe_change_the_shown_pixels(qtbot, main_window, shots, data):
    win = main_window
    choose_menu(qtbot, win, "File", "Open demo")
    _wait_ready(qtbot, win, 5, timeout=180000)
    ref_id = win.session.reference_id
    other = next(i for i, it in win.session.items.items()
                 if i != ref_id and getattr(it.method, "algorithm", "") == "bilinear")
    pane = win.panes[other]
    key(win, win, Qt.Key.Key_1)   # 1:1 so the demosaicking differences are visible
    click_image(pane, 300, 200)
    qtbot.waitUntil(lambda: win.current_id == other, timeout=3000)
    w, h = pane.rect_size
    points = [(x, y) for x in range(int(w * 0.3), int(w * 0.7), 7) for y in range(int(h * 0.3), int(h * 0.7), 7)]
    points = [p for p in points if pane.view.sceneBoundingRect().contains(pane.view.mapViewToScene(
        __import__("PySide6.QtCore", fromlist=["QPointF"]).QPointF(*p)))][:200]
    own = [shown_pixel(pane, *p) for p in points]
    shots(win, "before_flicker")
    activate(win)
    QTest.keyPress(pane.view_widget.viewport(), Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: win.flickering, timeout=3000)
    held = [shown_pixel(pane, *p) for p in points]
    ref_pane = win.panes[ref_id]
    ref_shown = [shown_pixel(ref_pane, *p) for p in points]
    shots(win, "space_held_shows_reference")
    QTest.keyRelease(pane.view_widget.viewport(), Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not win.flickering, timeout=3000)
    assert held != own and held == ref_shown
    assert [shown_pixel(pane, *p) for p in points] == own
    key(win, win, Qt.Key.Key_S)
    qtbot.waitUntil(lambda: pane.swipe_line.isVisible(), timeout=3000)
    shots(win, "swipe_on")
    line_x = pane.swipe_line.value()
    assert 0 < line_x < w
    _, (y0, y1) = pane.view.viewRange()
    handle_y = (max(y0, 0) + min(y1, h)) / 2          # the handle sits halfway along the visible line
    drag_image(pane, (line_x, handle_y), (line_x + 40, handle_y))
    qtbot.waitUntil(lambda: pane.swipe_line.value() > line_x + 1, timeout=3000)
    shots(win, "swipe_dragged")


def test_close_pane_then_save_and_reopen_from_the_command_line(qtbot, main_window, shots, data, tmp_path):
    win = main_window
    drop_files(win, [data / "raw" / "RAW_KODAK_DC50_é.KDC"])
    _wait_ready(qtbot, win, 1)
    choose_menu(qtbot, win, "Methods", "Add classical demosaic: bilinear")
    choose_menu(qtbot, win, "Methods", "Add classical demosaic: malvar")
    _wait_ready(qtbot, win, 3)
    choose_menu(qtbot, win, "Analysis", "Region of interest")
    qtbot.waitUntil(lambda: win.roi is not None, timeout=5000)
    qtbot.waitUntil(lambda: len(win.analysis.rows) == 2 and win.bridge.pending == 0, timeout=30000)
    shots(win, "three_panes_roi")
    malvar = next(i for i, it in win.session.items.items() if getattr(it.method, "algorithm", "") == "malvar")
    click_image(win.panes[malvar], 20, 20)
    key(win, win, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: malvar not in win.panes, timeout=5000)
    qtbot.waitUntil(lambda: win.analysis.table.rowCount() == 1, timeout=10000)
    labels = [win.analysis.table.item(r, 0).text() for r in range(win.analysis.table.rowCount())]
    assert not any(label.startswith("Malvar") for label in labels)
    assert len(win.analysis.plot.listDataItems()) == 2
    shots(win, "malvar_closed")
    path = tmp_path / "saved.ispv"
    win.save_session(path)
    text = path.read_text()
    assert "malvar" not in text and "bilinear" in text
    key(win, win, Qt.Key.Key_3, Qt.KeyboardModifier.AltModifier)   # Analysis › squared error
    qtbot.waitUntil(lambda: win.analysis_mode != "image", timeout=5000)
    mode = win.analysis_mode
    win.save_session(path)
    roi, titles = win.roi, sorted(win.session.items[i].label for i in win.panes)
    win.close()
    # the entry point as a user starts it, with the session file: it must open and keep running
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path)}
    probe = ("import sys; from isp_viewer.app import start; app, w = start([sys.argv[1]]);"
             "from PySide6.QtCore import QTimer; import time;"
             "t0 = time.time()\n"
             "def check():\n"
             "    items = [i for i in w.session.items.values() if i.status == 'ready']\n"
             "    if (len(items) >= 2 and w.roi is not None and w.bridge.pending == 0) or time.time() - t0 > 90:\n"
             "        w.grab().save(sys.argv[2]); print('MODE', w.analysis_mode)\n"
             "        print('PANES', sorted(i.label for i in items)); print('ROI', w.roi); app.quit()\n"
             "timer = QTimer(); timer.timeout.connect(check); timer.start(200); app.exec()")
    reopened = shots.folder / f"{shots.count + 1:02d}_reopened_from_command_line.png"
    out = subprocess.run([sys.executable, "-c", probe, str(path), str(reopened)], capture_output=True, text=True,
                         env=env, timeout=150)
    assert out.returncode == 0, out.stderr[-2000:]
    assert f"ROI {roi}" in out.stdout and f"MODE {mode}" in out.stdout, out.stdout
    assert reopened.is_file()
    assert "PANES" in out.stdout and len(eval(out.stdout.split("PANES ", 1)[1].splitlines()[0])) == len(titles)
