"""The metrics table's chosen columns and the colour error maps, by clicks and keys only:
demo -> tick dE2000 -> its column equals metrics.colour_difference -> the dE2000 view and its colour
bar; a real RAW without ground truth -> NIQE and BRISQUE per pane, full-reference columns "—"."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PySide6", reason="GUI workflow tests need PySide6")

from isp_viewer.analysis._inputs import sample
from isp_viewer.analysis.colour_maps import colour_map
from isp_viewer.metrics.catalogue import CATALOGUE
from isp_viewer.metrics.colour_difference import DE2000_CONVENTION, de2000
from isp_viewer.ui.colour_bar import number
from tests.workflows.h_driver import choose_combo, choose_menu, click, drop_files, ready_items, wait_idle


def tick_metric(qtbot, win, title: str, shots=None) -> None:
    """Open the analysis dock's Metrics… menu with a click and click the entry `title`."""
    button = win.analysis.metrics
    click(button)
    menu = button.menu()
    qtbot.waitUntil(menu.isVisible, timeout=3000)
    if shots is not None:
        shots(menu, "metrics_menu")
    action = next(a for a in menu.actions() if a.text() == title)
    click(menu, menu.actionGeometry(action).center())
    qtbot.waitUntil(lambda: not menu.isVisible(), timeout=3000)


def column_values(win, name: str) -> dict[str, str]:
    """pane label -> the text of the table's `name` column."""
    table, col = win.analysis.table, win.analysis.column(name)
    assert col > 0, f"{name} is not a column of {win.analysis.columns}"
    return {table.item(r, 0).text(): table.item(r, col).text() for r in range(table.rowCount())}


def test_demo_de2000_column_and_colour_map(qtbot, main_window, shots) -> None:
    win = main_window
    choose_menu(qtbot, win, "File", "Open demo")
    qtbot.waitUntil(lambda: len(ready_items(win)) == 5, timeout=120000)
    qtbot.waitUntil(lambda: len(win.analysis.rows) == 4, timeout=30000)
    assert win.analysis.columns == ("PSNR", "SSIM")                 # the default columns
    menu_texts = [a.text() for a in win.analysis.metrics.menu().actions()]
    for name in ("LPIPS", "DISTS"):                                 # greyed, with the catalogue's reason
        action = win.analysis.metrics.actions_[name]
        reason = CATALOGUE[name].unavailable()
        assert action.isEnabled() == (reason == "")
        if reason:
            assert action.toolTip() == reason and "unavailable" in action.text()
    assert "NIQE" in menu_texts and "BRISQUE" in menu_texts

    tick_metric(qtbot, win, CATALOGUE["dE2000"].title, shots)
    assert win.analysis.columns == ("PSNR", "SSIM", "dE2000")
    qtbot.waitUntil(lambda: all(r.values.get("dE2000") is not None for r in win.analysis.rows), timeout=60000)
    wait_idle(qtbot, win)
    shots(win, "demo_de2000_column")
    header = win.analysis.table.horizontalHeaderItem(win.analysis.column("dE2000"))
    assert DE2000_CONVENTION in header.toolTip()
    ref = win.session.reference
    cells = column_values(win, "dE2000")
    methods = [i for i in ready_items(win) if i.id != ref.id]
    for item in methods:
        want = de2000(item.image.rgb(), ref.image.rgb()).mean
        assert float(cells[item.label]) == pytest.approx(want, abs=1e-3)

    choose_combo(qtbot, win.analysis.mode, "Colour: dE2000")
    bar = win.analysis.colour_bar
    qtbot.waitUntil(lambda: bar.isVisible() and "CIEDE2000" in bar.title.text(), timeout=60000)
    wait_idle(qtbot, win)
    shots(win, "demo_de2000_map")
    maps = [colour_map(item.image.rgb(), ref.image.rgb(), "de2000").data for item in methods]
    p99 = float(np.percentile(np.concatenate([sample(m) for m in maps]), 99.0))
    hi, top = max(p99, 1.0), max(float(m.max()) for m in maps)
    text = bar.range_label.text()
    assert text.startswith(f"range 0 – {number(hi)} ") and f"largest value {number(top)}" in text
    assert bar.high.text() == number(hi) and bar.low.text() == "0"
    pane = win.panes[methods[0].id]
    assert "CIEDE2000" in pane.title.text() and pane.display.shape[:2] == maps[0].shape

    choose_combo(qtbot, win.analysis.mode, "Colour: zipper")     # fixed range: twice the zipper threshold
    qtbot.waitUntil(lambda: bar.isVisible() and "zipper" in bar.title.text(), timeout=60000)
    zipper_hi = colour_map(methods[0].image.rgb(), ref.image.rgb(), "zipper").suggested_range[1]
    assert bar.high.text() == number(zipper_hi) and "fixed range" in bar.range_label.text()
    shots(win, "demo_zipper_map")

    choose_combo(qtbot, win.analysis.mode, "Colour: false colour")   # a*b* distance, range up to the 99th percentile
    qtbot.waitUntil(lambda: bar.isVisible() and "false colour" in bar.title.text(), timeout=60000)
    wait_idle(qtbot, win)
    shots(win, "demo_false_colour_map")
    maps = [colour_map(item.image.rgb(), ref.image.rgb(), "false-colour").data for item in methods]
    p99 = float(np.percentile(np.concatenate([sample(m) for m in maps]), 99.0))
    assert bar.high.text() == number(max(p99, 1.0)) and bar.low.text() == "0"
    assert "a*b*" in pane.title.text() or "false colour" in pane.title.text()

    choose_combo(qtbot, win.analysis.mode, "Images")                 # back: the pane's own pixels and title
    item = methods[0]
    want = item.image.to_display(win.exposure, win.gamma if item.image.linear else None)
    qtbot.waitUntil(lambda: pane.display is not None and pane.display.shape == want.shape
                    and np.array_equal(pane.display, want), timeout=60000)
    assert not bar.isVisible() and pane.full_title.lstrip("★ ") == item.label


def test_real_raw_without_ground_truth_gets_no_reference_metrics(qtbot, main_window, shots, data) -> None:
    from isp_viewer.metrics.brisque import brisque
    from isp_viewer.metrics.niqe import niqe

    win = main_window
    drop_files(win, [data / "raw" / "RAW_KODAK_DC50_é.KDC"])
    qtbot.waitUntil(lambda: len(ready_items(win)) == 1, timeout=60000)
    choose_menu(qtbot, win, "Methods", "Add classical demosaic: bilinear")
    choose_menu(qtbot, win, "Methods", "Add classical demosaic: malvar")
    qtbot.waitUntil(lambda: len(ready_items(win)) == 3, timeout=60000)
    qtbot.waitUntil(lambda: len(win.analysis.rows) == 2 and win.bridge.pending == 0, timeout=30000)
    assert all(r.psnr is None and "no ground truth" in r.note for r in win.analysis.rows)

    tick_metric(qtbot, win, "NIQE")
    tick_metric(qtbot, win, "BRISQUE")
    assert win.analysis.columns == ("PSNR", "SSIM", "NIQE", "BRISQUE")
    qtbot.waitUntil(lambda: len(win.analysis.rows) == 3                        # the reference pane too
                    and all(r.values.get("NIQE") is not None for r in win.analysis.rows), timeout=60000)
    wait_idle(qtbot, win)
    shots(win, "raw_niqe_brisque")
    niqe_cells, brisque_cells, psnr_cells = (column_values(win, n) for n in ("NIQE", "BRISQUE", "PSNR"))
    notes = {r.label: r.note for r in win.analysis.rows}
    for item in ready_items(win):
        image = item.image.rgb()
        assert float(niqe_cells[item.label]) == pytest.approx(niqe(image), abs=1e-3)
        assert float(brisque_cells[item.label]) == pytest.approx(brisque(image), abs=1e-3)
        assert psnr_cells[item.label] == "—"                       # still no full-reference number
        if item.id != win.session.reference_id:
            assert "no ground truth" in notes[item.label]
