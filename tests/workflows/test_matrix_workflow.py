"""The data-set matrix in the window: compute (with Cancel and resume), sort, open a cell at its
worst region, keep the worst regions as ROIs — driven through clicks on the widgets."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from isp_viewer.matrix import ResultStore, cell_regions
from isp_viewer.ui import window_dataset
from isp_viewer.ui.window_matrix import matrix_store_path
from tests.ui.conftest import wait_idle

STEMS = ("kodim03", "kodim19", "kodim23")
LEFT, NONE = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier


@pytest.fixture
def kodak_set(tmp_path, data):
    """Three Kodak images as inputs (a GRBG mosaic is simulated from them) and as references."""
    ins, refs = tmp_path / "in", tmp_path / "gt"
    ins.mkdir()
    refs.mkdir()
    for stem in STEMS:
        shutil.copy(data / f"paired/kodak24/{stem}.png", ins / f"{stem}.png")
        shutil.copy(data / f"paired/kodak24/{stem}.png", refs / f"{stem}_GT.png")
    return ins, refs


def open_dataset_from_the_menu(win, monkeypatch, ins, refs) -> None:
    """File › Open dataset, with the two folder dialogs and the input-kind question answered."""
    from PySide6.QtWidgets import QFileDialog, QInputDialog

    folders = iter([str(ins), str(refs)])
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: next(folders))
    monkeypatch.setattr(QInputDialog, "getItem", lambda parent, title, label, items, *a: (items[0], True))
    action = next(a for a in win.actions() if a.text().startswith("Open data&set"))
    action.trigger()


def click_cell(view, row: int, col: int) -> None:
    table = view.table
    rect = table.visualRect(table.model().index(row, col))
    QTest.mouseClick(table.viewport(), LEFT, NONE, rect.center())


def wait_for_run(qtbot, win, previous=None) -> dict:
    qtbot.waitUntil(lambda: win.matrix_cancel is None and win.matrix_result not in (None, previous),
                    timeout=120000)
    return win.matrix_result


def test_matrix_compute_cancel_resume_sort_open_cell_and_keep(qtbot, main_window, shots, kodak_set, monkeypatch):
    win, (ins, refs) = main_window, kodak_set
    # classical methods only, for speed (the default recipe also runs a network)
    monkeypatch.setattr(window_dataset.methods, "DEFAULT_DATASET_RECIPE",
                        (("classical", "bilinear"), ("classical", "malvar")))
    open_dataset_from_the_menu(win, monkeypatch, ins, refs)
    wait_idle(qtbot, win, timeout=120000)
    view = win.matrix_view
    assert view is not None and view.isVisible() and view.table.rowCount() == 0
    shots(win, "dataset_opened")

    # compute, cancelled at once: whatever finished is stored, the second compute does the rest
    QTest.mouseClick(view.compute_button, LEFT)
    assert view.cancel_button.isEnabled() and not view.compute_button.isEnabled()
    QTest.mouseClick(view.cancel_button, LEFT)
    first = wait_for_run(qtbot, win)
    stored_runs = len({(r.image, r.method) for r in first["rows"]})
    assert stored_runs < 6 or first["summary"] is not None
    QTest.mouseClick(view.compute_button, LEFT)
    second = wait_for_run(qtbot, win, first)
    assert second["summary"] is not None
    assert len(second["summary"].computed) == 6 - stored_runs
    rows = second["rows"]
    assert len(rows) == 3 * 2 * 2   # images x methods x (PSNR, SSIM)
    assert view.table.rowCount() == 3 and view.table.columnCount() == 3
    assert view.progress.value() == view.progress.maximum() == 6
    assert matrix_store_path(ins) == ins / ".isp-viewer-matrix.db" and (ins / ".isp-viewer-matrix.db").is_file()
    shots(win, "table_computed")
    # a third compute finds every cell stored and computes nothing
    QTest.mouseClick(view.compute_button, LEFT)
    third = wait_for_run(qtbot, win, second)
    assert third["summary"].computed == () and third["rows"] == rows
    assert "0 computed" in view.status.text() and "6 read" in view.status.text()

    # the table shows the chosen metric; a header click sorts a column by value
    view.metric_box.setCurrentText("PSNR")
    psnr = {(r.image, r.method): r.value for r in rows if r.metric == "PSNR"}
    assert float(view.table.item(0, 2).data(Qt.ItemDataRole.UserRole)) == pytest.approx(
        psnr[(view.table.item(0, 0).text(), "malvar")])
    header = view.table.horizontalHeader()
    QTest.mouseClick(header.viewport(), LEFT, NONE,
                     QPoint(header.sectionViewportPosition(2) + header.sectionSize(2) // 2, header.height() // 2))
    shown = [float(view.table.item(r, 2).data(Qt.ItemDataRole.UserRole)) for r in range(3)]
    assert shown in (sorted(shown), sorted(shown, reverse=True)) and len(set(shown)) == 3
    assert shown == sorted(psnr[(s, "malvar")] for s in STEMS) or shown == sorted(
        (psnr[(s, "malvar")] for s in STEMS), reverse=True)
    shots(win, "sorted_by_malvar")

    # a click on (kodim19, malvar) opens kodim19 with both methods, zoomed to that cell's worst region
    row, col = view.cell_at("kodim19", "malvar")
    click_cell(view, row, col)
    task_key = next(r.task_key for r in rows if r.image == "kodim19" and r.method == "malvar")
    spec = second["spec"]
    with ResultStore(ins / ".isp-viewer-matrix.db") as store:
        worst = [w.region for w in cell_regions(spec, store, task_key)]
    assert len(worst) == 4 and worst[0].w == worst[0].h == 64
    wait_idle(qtbot, win, timeout=120000)

    def at_worst() -> bool:
        vp = win.session.viewport
        r = worst[0]
        return vp.zoom is not None and r.x <= vp.cx <= r.x1 and r.y <= vp.cy <= r.y1

    qtbot.waitUntil(at_worst, timeout=30000)
    assert win.dataset["index"] == STEMS.index("kodim19")
    assert any("kodim19" in p.full_title for p in win.panes.values())
    assert len(win.panes) == 3 and all(i.status == "ready" for i in win.session.items.values())
    assert win.session.roi == worst[0]
    (x0, x1), (y0, y1) = win.master_view().viewRange()
    r = worst[0]
    assert x0 <= r.x and r.x1 <= x1 and y0 <= r.y and r.y1 <= y1 and x1 - x0 < 768 / 2   # zoomed in onto it
    shots(win, "cell_opened_at_worst_region")

    # Keep: the cell's worst regions become the kept ROIs (the Ctrl+K path, so the study gets crops too)
    QTest.mouseClick(view.keep_button, LEFT)
    assert win.session.kept_rois == worst
    shots(win, "worst_regions_kept")


def test_read_only_dataset_keeps_its_matrix_in_the_user_cache(qtbot, main_window, kodak_set, monkeypatch, tmp_path):
    win, (ins, refs) = main_window, kodak_set
    cache = tmp_path / "cache"
    monkeypatch.setenv("ISPV_CACHE_DIR", str(cache))
    monkeypatch.setattr(window_dataset.methods, "DEFAULT_DATASET_RECIPE", (("classical", "bilinear"),))
    ins.chmod(0o555)
    try:
        open_dataset_from_the_menu(win, monkeypatch, ins, refs)
        wait_idle(qtbot, win, timeout=120000)
        QTest.mouseClick(win.matrix_view.compute_button, LEFT)
        result = wait_for_run(qtbot, win)
    finally:
        ins.chmod(0o755)
    store = cache / "matrix" / "in.isp-viewer-matrix.db"
    assert result["store"] == str(store) and store.is_file()
    assert not (ins / ".isp-viewer-matrix.db").exists()
    assert len(result["summary"].computed) == 3 and win.matrix_view.table.rowCount() == 3
