"""A MOS study from the window: two kept ROIs -> ACR design -> runner started by a click ->
every trial rated by clicks -> the MOS table and chart in the dock."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6", reason="GUI workflow tests need PySide6")

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QScrollArea

from tests.workflows.h_driver import check_box, choose_menu, click, click_tab, drag, open_demo, pane_point, type_into


def test_two_rois_acr_study_started_by_click_rated_and_analysed(qtbot, h_window, shots, request, tmp_path) -> None:
    win = h_window
    open_demo(qtbot, win)

    # ROI on, keep it; drag it elsewhere in a pane, keep it again
    check_box(win.analysis.roi)
    qtbot.waitUntil(lambda: win.roi is not None, timeout=5000)
    choose_menu(qtbot, win, "Analysis", "Keep this ROI")
    first = win.roi_region()
    pane = next(iter(win.panes.values()))
    cx, cy = first.x + first.w / 2, first.y + first.h / 2
    drag(pane.view_widget.viewport(), pane_point(pane, cx, cy), pane_point(pane, cx - 120, cy + 110))
    qtbot.waitUntil(lambda: win.roi_region() is not None and win.roi_region().x < first.x - 60, timeout=5000)
    choose_menu(qtbot, win, "Analysis", "Keep this ROI")
    assert len(win.kept_rois) == 2 and win.kept_rois[0] != win.kept_rois[1]
    shots(win, "two_rois_kept")

    click_tab(win, "MOS study")
    study = win.study
    qtbot.waitUntil(study.isVisible, timeout=3000)
    assert study.crop_table.rowCount() == 2
    type_into(study.grey, "0")
    assert study.grey.value() == 0.0
    shots(win, "study_dock_designed")
    methods = [study.method_list.item(i).text() for i in range(study.method_list.count())]
    assert len(methods) == 5

    scroll = study.parentWidget().parentWidget()
    assert isinstance(scroll, QScrollArea)
    scroll.ensureWidgetVisible(study.run_button)
    opened = []
    study.runner_opened.connect(opened.append)
    click(study.run_button)
    qtbot.waitUntil(lambda: bool(opened), timeout=5000)
    runner = opened[0]
    qtbot.addWidget(runner)
    qtbot.waitExposed(runner)
    qtbot.keyClicks(runner.observer_edit, "researcher-1")
    shots(runner, "runner_observer_page")
    click(runner.start_button)                          # the click that used to raise TypeError
    qtbot.waitUntil(lambda: runner.state == "rating", timeout=5000)
    shots(runner, "runner_first_trial")
    # the observer's opinion: the ground truth 5, demosaicnet 4, Menon 3, Malvar 2, bilinear 1
    labels = dict(study.methods and [(m.id, m.label) for m in study.methods])
    opinion = {}
    for mid, label in labels.items():
        opinion[mid] = 5 if "ground truth" in label else 4 if "demosaicnet" in label else \
            3 if "Menon" in label else 2 if "Malvar" in label else 1
    while runner.state == "rating":
        click(runner.answer_buttons[opinion[runner.session.current.method_id] - 1])
        qtbot.waitUntil(lambda: runner.state in ("rating", "done"), timeout=3000)
    assert runner.state == "done" and len(runner.session.trials) == 10
    shots(runner, "runner_done")
    runner.close()

    scroll.ensureWidgetVisible(study.analyse_button)
    click(study.analyse_button)
    table = study.results_table
    qtbot.waitUntil(lambda: table.rowCount() == 5 + 10, timeout=5000)
    scroll.ensureWidgetVisible(table)
    shown = {table.item(r, 0).text(): table.item(r, 3).text() for r in range(5)}
    assert shown == {labels[m]: f"{opinion[m]:.2f}" for m in labels}
    header = table.horizontalHeader()
    for c in range(table.columnCount()):        # MOS and CI columns are on screen
        assert header.sectionViewportPosition(c) + header.sectionSize(c) <= table.viewport().width() + 1
    lo, hi = study.results.value_axis_range
    assert lo <= 1 and hi >= 5
    shots(win, "mos_table_in_dock")
    QTest.keyClick(scroll.verticalScrollBar(), Qt.Key.Key_End)     # scroll the dock to its bottom
    bar = scroll.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.value() == bar.maximum(), timeout=3000)
    assert study.results.bar_labels[:2] == [labels[m][:21] + "…" if len(labels[m]) > 22 else labels[m]
                                            for m in list(labels)[:2]]
    shots(win, "mos_chart_in_dock")
