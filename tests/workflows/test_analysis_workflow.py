"""Demo -> error map -> colour bar -> inspector -> ROI -> metrics table, by clicks and keys only."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PySide6", reason="GUI workflow tests need PySide6")

from PySide6.QtCore import QPoint

from isp_viewer.core.region import Region
from isp_viewer.metrics import ISP_PAPER, psnr_ssim
from tests.workflows.h_driver import check_box, choose_combo, choose_menu, hover, open_demo, ready_items, wait_idle


def test_demo_error_map_colour_bar_inspector_roi_table(qtbot, h_window, shots, request, tmp_path) -> None:
    win = h_window
    open_demo(qtbot, win)
    qtbot.waitUntil(lambda: len(win.analysis.rows) == 4, timeout=30000)
    shots(win, "demo_opened")
    ref = win.session.reference
    assert "ground truth" in ref.label
    table = win.analysis.table
    # ground truth: every method has a PSNR, equal to the metrics module's
    by_label = {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}
    for item in ready_items(win):
        if item.id != ref.id:
            want = psnr_ssim(item.image.rgb(), ref.image.rgb(), ISP_PAPER).psnr
            assert by_label[item.label] == f"{want:.2f}"

    # Error map: the analysis dock's View list
    choose_combo(qtbot, win.analysis.mode, "Error: absolute")
    bar = win.analysis.colour_bar
    qtbot.waitUntil(bar.isVisible, timeout=60000)
    wait_idle(qtbot, win)
    shots(win, "absolute_error_maps")
    errors = {i.id: np.abs(i.image.rgb() - ref.image.rgb()).mean(axis=2) for i in ready_items(win) if i.id != ref.id}
    top = max(float(e.max()) for e in errors.values())
    p99 = float(np.percentile(np.concatenate([e.ravel() for e in errors.values()]), 99.0))
    text = bar.range_label.text()
    assert f"largest value {top:.3g}" in text                      # the error's max, as displayed
    hi = float(bar.high.text())
    assert hi == pytest.approx(p99, rel=0.02)                      # top colour = 99th percentile (sampled)
    assert "shared by all 4 pane(s)" in bar.title.text() and "absolute error" in bar.title.text()
    # the reference pane shows the reference, not an all-zero map
    ref_pane = win.panes[ref.id]
    assert np.array_equal(ref_pane.display, ref.image.to_display())
    assert "reference" in ref_pane.title.text()

    # Inspector: hover a method pane, read the error the pane shows there
    method_id = next(iter(errors))
    pane = win.panes[method_id]
    view = pane.view
    x, y = 200, 150
    scene_pt = view.mapViewToScene(pg_point(x + 0.5, y + 0.5))
    widget_pt = pane.view_widget.mapFromScene(scene_pt)
    hover(pane.view_widget.viewport(), QPoint(int(widget_pt.x()), int(widget_pt.y())))
    qtbot.waitUntil(lambda: win.coord_label.text().startswith("x "), timeout=5000)
    # one screen pixel spans more than one image pixel at this zoom: read where the cursor landed
    x, y = (int(v) for v in win.coord_label.text().split()[1::2])
    assert abs(x - 200) <= 2 and abs(y - 150) <= 2
    rows = {win.inspector.item(r, 0).text(): win.inspector.item(r, 3).text() for r in range(win.inspector.rowCount())}
    label = win.session.items[method_id].label
    assert rows[label] == f"|err| {float(errors[method_id][y, x]):.3g}"
    assert rows[ref.label] == "reference"
    shots(win, "inspector_on_error")

    # ROI on (its check box): the table is measured inside it, and says where
    check_box(win.analysis.roi)
    qtbot.waitUntil(lambda: "ROI x" in win.analysis.convention_label.text(), timeout=30000)
    wait_idle(qtbot, win)
    region = win.roi_region()
    assert region is not None and f"ROI x {region.x}, y {region.y}, {region.w}×{region.h}" in \
        win.analysis.convention_label.text()
    by_label = {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}
    for item in ready_items(win):
        if item.id != ref.id:
            want = psnr_ssim(item.image.rgb(), ref.image.rgb(), ISP_PAPER, region=region).psnr
            assert by_label[item.label] == f"{want:.2f}"
    shots(win, "roi_metrics_table")
    assert isinstance(region, Region)


def pg_point(x: float, y: float):
    from PySide6.QtCore import QPointF

    return QPointF(x, y)


def test_real_raw_without_ground_truth_shows_no_psnr_until_a_reference_is_chosen(qtbot, h_window, shots, request,
                                                                                   tmp_path, data) -> None:
    from PySide6.QtWidgets import QPushButton

    from tests.workflows.h_driver import drop_files

    win = h_window
    drop_files(win, [data / "raw" / "RAW_KODAK_DC50_é.KDC"])
    qtbot.waitUntil(lambda: len(ready_items(win)) == 1, timeout=60000)
    check_box(win.baseline_boxes["Malvar-He-Cutler"])
    add = next(b for b in win.findChildren(QPushButton) if b.text() == "Add checked baselines")
    from tests.workflows.h_driver import click

    click(add)
    qtbot.waitUntil(lambda: len(ready_items(win)) == 2, timeout=60000)
    wait_idle(qtbot, win)
    table = win.analysis.table
    qtbot.waitUntil(lambda: table.rowCount() == 1 and table.item(0, 3) is not None, timeout=30000)
    assert table.item(0, 1).text() == "—" and "no ground truth" in table.item(0, 3).text()
    shots(win, "raw_no_ground_truth")

    choose_menu(qtbot, win, "View", "Make current pane the reference")   # the LibRaw pane, by choice
    qtbot.waitUntil(lambda: table.item(0, 1) is not None and table.item(0, 1).text() != "—", timeout=30000)
    ref = win.session.reference
    assert f"vs {ref.label}, not ground truth" in table.item(0, 3).text()
    other = next(i for i in ready_items(win) if i.id != ref.id)
    want = psnr_ssim(other.image.rgb(), ref.image.rgb(), ISP_PAPER).psnr
    assert table.item(0, 1).text() == f"{want:.2f}"
    shots(win, "raw_reference_chosen")
