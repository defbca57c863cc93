"""Sessions are documents (issue 11), driven through the window's keys, clicks and file dialogs:
an export-dialog layout is saved and redone by the CLI; a simulated low-resolution session and the
demo's simulated mosaic come back with their methods; viewport, exposure and the changed-file
warning come back on reopening."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("PySide6", reason="GUI workflow tests need PySide6")

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QFileDialog, QMessageBox

from tests.workflows.conftest import key
from tests.workflows.h_driver import (
    answer_file_dialog,
    check_box,
    choose_menu,
    click,
    drop_files,
    open_window,
    ready_items,
    visible_dialogs,
    without_run_time,
)

CTRL = Qt.KeyboardModifier.ControlModifier
SRGAN = "srgan_leftthomas_x4"


@pytest.fixture
def win(qtbot, tmp_path, monkeypatch, shared):
    monkeypatch.setenv("ISPV_NATIVE_DIALOGS", "0")
    window = open_window(qtbot, tmp_path, monkeypatch, weights=shared / "weights")
    window.resize(1600, 1000)
    yield window
    window.bridge.shutdown()
    window.close()


def save_with_ctrl_s(qtbot, window, path: Path) -> None:
    seen = answer_file_dialog(path)
    key(window, window, Qt.Key.Key_S, CTRL)
    qtbot.waitUntil(lambda: path.is_file() and seen == ["Save session"], timeout=20000)


def open_with_ctrl_shift_o(qtbot, window, path: Path) -> None:
    seen = answer_file_dialog(path)
    key(window, window, Qt.Key.Key_O, CTRL | Qt.KeyboardModifier.ShiftModifier)
    # answered, not just seen: the window may already hold this path (it saved it)
    qtbot.waitUntil(lambda: seen == ["Open session"] and window.session_path == path
                    and not visible_dialogs(QFileDialog), timeout=30000)


def wait_panes(qtbot, window, n: int, timeout: int = 180000) -> None:
    qtbot.waitUntil(lambda: len(ready_items(window)) >= n and window.bridge.pending == 0, timeout=timeout)
    qtbot.waitUntil(lambda: all(p.display is not None for p in window.panes.values()), timeout=timeout)


def titles(window) -> list[str]:
    """Pane titles without a network's run time and cache note (which differ from run to run)."""
    return sorted(without_run_time(window.panes[i].full_title.lstrip("★ ")) for i in window.panes)


def raise_exposure(qtbot, window, steps: int) -> float:
    box = window.exposure_box
    before = box.value()
    click(box)
    for _ in range(abs(steps)):
        key(window, box, Qt.Key.Key_Up if steps > 0 else Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: abs(window.exposure - (before + 0.25 * steps)) < 1e-9, timeout=3000)
    return window.exposure


def test_export_dialog_layout_is_saved_and_redone_by_the_cli(qtbot, win, shots, data, tmp_path):
    drop_files(win, [data / "raw" / "RAW_KODAK_DC50_é.KDC"])
    wait_panes(qtbot, win, 1)
    choose_menu(qtbot, win, "Methods", "Add classical demosaic: bilinear")
    wait_panes(qtbot, win, 2)
    from isp_viewer.ui.export_dialog import ExportDialog

    seen = answer_file_dialog(tmp_path / "figure_source.ispv")
    key(win, win, Qt.Key.Key_E, CTRL)
    qtbot.waitUntil(lambda: any(isinstance(w, ExportDialog) and w.isVisible() for w in QApplication.topLevelWidgets()),
                    timeout=20000)
    assert seen == ["Save the session the figure is made from"]
    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, ExportDialog) and w.isVisible())
    assert dialog.show_labels.isChecked()
    check_box(dialog.show_labels)                     # the edit: no method labels
    qtbot.waitUntil(lambda: not dialog.show_labels.isChecked(), timeout=3000)
    qtbot.waitUntil(lambda: dialog.preview.pixmap() is not None and not dialog.preview.pixmap().isNull(),
                    timeout=60000)
    shots(dialog, "export_dialog_labels_off")
    dialog_png = tmp_path / "dialog.png"
    seen = answer_file_dialog(dialog_png)
    click(dialog.save_button)
    qtbot.waitUntil(lambda: dialog_png.is_file() and seen == ["Export figure"], timeout=60000)
    click(dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Close))
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    session = tmp_path / "edited.ispv"
    save_with_ctrl_s(qtbot, win, session)
    shots(win, "session_saved")
    stored = json.loads(session.read_text())["figures"]
    assert list(stored) == ["figure"] and stored["figure"]["show_labels"] is False
    cli_png = tmp_path / "cli.png"
    env = {**os.environ, "HOME": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-m", "isp_viewer", "export", str(session), "--out", str(cli_png)],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert cli_png.read_bytes() == dialog_png.read_bytes()
    shutil.copy(cli_png, shots.folder / f"{shots.count + 1:02d}_cli_export.png")


PROBE = """
import sys, time
from isp_viewer.app import start
from PySide6.QtCore import QTimer
app, w = start([sys.argv[1]])
t0 = time.time()
def check():
    items = [i for i in w.session.items.values() if i.status == 'ready']
    if (len(items) >= int(sys.argv[3]) and w.bridge.pending == 0) or time.time() - t0 > 120:
        w.grab().save(sys.argv[2])
        print('PANES', sorted(i.label for i in items))
        print('SOURCES', sorted(type(s).__name__ for s in w.session.sources.values()))
        print('EXPOSURE', w.exposure)
        print('VIEWPORT', w.session.viewport.zoom)
        app.quit()
timer = QTimer(); timer.timeout.connect(check); timer.start(200); app.exec()
"""


def test_simulated_low_resolution_session_reopens_with_its_sr_pane_and_warns_of_a_changed_input(
        qtbot, win, shots, data, tmp_path):
    gt_path = tmp_path / "butterfly_GT.bmp"
    shutil.copy(data / "paired/sr_set5/butterfly_GT.bmp", gt_path)
    drop_files(win, [gt_path])
    wait_panes(qtbot, win, 1)
    click(win.sr_tools.button)
    wait_panes(qtbot, win, 2)
    row = win.models.rows[SRGAN]
    qtbot.waitUntil(row.checkbox.isEnabled, timeout=60000)
    check_box(row.checkbox)
    click(win.models.run_button)
    wait_panes(qtbot, win, 3)
    exposure = raise_exposure(qtbot, win, 2)
    key(win, win, Qt.Key.Key_1)                          # 1:1 pixels: a viewport to come back
    qtbot.waitUntil(lambda: win.session.viewport.zoom is not None, timeout=3000)
    zoom = win.session.viewport.zoom
    labels = sorted(i.label for i in ready_items(win))
    shots(win, "sr_session_before_saving")
    session = tmp_path / "sr.ispv"
    save_with_ctrl_s(qtbot, win, session)
    doc = json.loads(session.read_text())
    assert [(i["path"], i.get("simulate_lr")) for i in doc["inputs"]] == [("butterfly_GT.bmp", 4)]
    assert sorted(m["kind"] for m in doc["methods"]) == ["input", "network"]

    reopened = shots.folder / f"{shots.count + 1:02d}_sr_reopened_from_command_line.png"
    shots.count += 1
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path),
           "ISPV_WEIGHTS": os.environ.get("ISPV_WEIGHTS", "")}
    out = subprocess.run([sys.executable, "-c", PROBE, str(session), str(reopened), "3"], capture_output=True,
                         text=True, env=env, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    panes = eval(out.stdout.split("PANES ", 1)[1].splitlines()[0])
    # a network pane by its model and weights (the Run dock and the Methods path word the device differently)
    assert [p.split(" · ")[:2] for p in panes] == [p.split(" · ")[:2] for p in labels], (panes, labels)
    assert any("bicubic ×1/4" in p for p in panes) and any("SRGAN" in p for p in panes)
    shown = dict(line.split(" ", 1) for line in out.stdout.splitlines() if line.startswith(("EXPOSURE", "VIEWPORT")))
    assert float(shown["EXPOSURE"]) == exposure, out.stdout
    assert abs(float(shown["VIEWPORT"]) - zoom) < 1e-9 * zoom, out.stdout   # through the views' float range

    # the input changes after saving: reopening says so in one line
    from PIL import Image as PILImage

    pixels = PILImage.open(gt_path).convert("RGB")
    pixels.putpixel((0, 0), tuple(255 - v for v in pixels.getpixel((0, 0))))
    pixels.save(gt_path)
    open_with_ctrl_shift_o(qtbot, win, session)
    qtbot.waitUntil(lambda: any(isinstance(w, QMessageBox) and w.isVisible() for w in QApplication.topLevelWidgets()),
                    timeout=60000)
    # the restore's own progress lines may come first on a loaded machine; the warning is its last word
    qtbot.waitUntil(lambda: "file changed" in win.statusBar().currentMessage(), timeout=60000)
    message = win.statusBar().currentMessage()
    assert message.count("file changed") == 1 and "butterfly_GT.bmp" in message and "\n" not in message
    boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]
    assert len(boxes) == 1 and boxes[0].text() == message
    wait_panes(qtbot, win, 3)
    qtbot.waitUntil(lambda: win.statusBar().currentMessage() == message, timeout=10000)   # still the last word
    qtbot.waitUntil(lambda: any("SRGAN" in r.label for r in win.analysis.rows) and win.bridge.pending == 0,
                    timeout=30000)   # the reopened SR pane is scored again
    shots(win, "reopened_with_changed_input_warning")


def test_demo_session_reopens_with_its_classical_and_network_panes(qtbot, win, shots, tmp_path):
    choose_menu(qtbot, win, "File", "Open demo")
    wait_panes(qtbot, win, 5)
    exposure = raise_exposure(qtbot, win, 1)
    key(win, win, Qt.Key.Key_1)
    qtbot.waitUntil(lambda: win.session.viewport.zoom is not None, timeout=3000)
    viewport = win.session.viewport
    before = titles(win)
    shots(win, "demo_ready")
    session = tmp_path / "demo.ispv"
    save_with_ctrl_s(qtbot, win, session)
    inputs = json.loads(session.read_text())["inputs"]
    assert [i["simulate_cfa"] for i in inputs] == ["GRBG"]
    # change the view after saving, so what comes back is the session's
    raise_exposure(qtbot, win, -3)
    key(win, win, Qt.Key.Key_F)
    qtbot.waitUntil(lambda: win.session.viewport != viewport, timeout=3000)
    open_with_ctrl_shift_o(qtbot, win, session)
    wait_panes(qtbot, win, 5)
    qtbot.waitUntil(lambda: win.session.viewport == viewport, timeout=10000)
    qtbot.waitUntil(lambda: len(win.analysis.rows) == 4 and win.bridge.pending == 0, timeout=60000)
    shots(win, "demo_reopened")
    assert titles(win) == before
    assert win.exposure == exposure
    kinds = sorted(type(i.method).__name__ for i in ready_items(win))
    assert kinds == ["ClassicalMethod"] * 3 + ["FileMethod", "NetworkMethod"]
    assert sorted(type(s).__name__ for s in win.session.sources.values()) == ["RawMosaic"]
