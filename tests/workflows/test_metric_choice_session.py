"""The Metrics… menu's choice is part of the session, by clicks only: demo -> tick dE2000 ->
File > Save session… -> close the window -> a fresh window -> File > Open session… -> the table
has the dE2000 column again and the menu entry is ticked."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("PySide6", reason="GUI workflow tests need PySide6")

from isp_viewer.metrics.catalogue import CATALOGUE
from tests.workflows.h_driver import (
    answer_file_dialog,
    choose_menu,
    click,
    open_window,
    ready_items,
    wait_idle,
    without_run_time,
)
from tests.workflows.test_metrics_workflow import column_values, tick_metric

DE2000 = CATALOGUE["dE2000"].title


def _de2000_by_method(win) -> dict[str, str]:
    """dE2000 cells by pane label without a network's run time (a cached rerun reads 0.0 s)."""
    return {without_run_time(label): v for label, v in column_values(win, "dE2000").items()}


def _window(qtbot, tmp_path, monkeypatch, shared):
    win = open_window(qtbot, tmp_path, monkeypatch, weights=shared / "weights")
    win.resize(1600, 1000)
    return win


def _demo_scored(qtbot, win, column: str | None = None) -> None:
    qtbot.waitUntil(lambda: len(ready_items(win)) == 5, timeout=180000)
    qtbot.waitUntil(lambda: len(win.analysis.rows) == 4 and (
        column is None or all(r.values.get(column) is not None for r in win.analysis.rows)), timeout=60000)
    wait_idle(qtbot, win)


def test_ticked_metric_is_saved_and_comes_back_in_a_fresh_window(qtbot, tmp_path, monkeypatch, shared, shots):
    monkeypatch.setenv("ISPV_NATIVE_DIALOGS", "0")
    session_path = tmp_path / "with_de2000.ispv"
    win = _window(qtbot, tmp_path, monkeypatch, shared)
    choose_menu(qtbot, win, "File", "Open demo")
    _demo_scored(qtbot, win)
    assert win.analysis.columns == ("PSNR", "SSIM")
    tick_metric(qtbot, win, DE2000)
    assert win.session.metrics == ("PSNR", "SSIM", "dE2000")      # the menu wrote the session
    _demo_scored(qtbot, win, "dE2000")
    before = _de2000_by_method(win)

    seen = answer_file_dialog(session_path)
    choose_menu(qtbot, win, "File", "Save session…")
    qtbot.waitUntil(lambda: session_path.is_file() and seen == ["Save session"], timeout=60000)
    assert json.loads(session_path.read_text())["metrics"] == ["PSNR", "SSIM", "dE2000"]
    win.bridge.shutdown()
    win.close()

    fresh = _window(qtbot, tmp_path, monkeypatch, shared)
    assert fresh.analysis.columns == ("PSNR", "SSIM")              # a new window starts at the default
    seen = answer_file_dialog(session_path)
    choose_menu(qtbot, fresh, "File", "Open session…")
    qtbot.waitUntil(lambda: seen == ["Open session"] and fresh.session_path == session_path, timeout=60000)
    _demo_scored(qtbot, fresh, "dE2000")
    try:
        table = fresh.analysis.table
        headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
        assert "dE2000" in headers, headers
        assert fresh.analysis.columns == ("PSNR", "SSIM", "dE2000")
        assert _de2000_by_method(fresh) == before            # the same demo, the same numbers
        button = fresh.analysis.metrics
        assert button.actions_["dE2000"].isChecked()
        assert [n for n, a in button.actions_.items() if a.isChecked()] == ["PSNR", "SSIM", "dE2000"]
        shots(fresh, "reopened_with_de2000_column")
        click(button)                                               # the menu as the user sees it
        qtbot.waitUntil(button.menu().isVisible, timeout=3000)
        shots(button.menu(), "reopened_metrics_menu")
        button.menu().close()
    finally:
        fresh.bridge.shutdown()
        fresh.close()
