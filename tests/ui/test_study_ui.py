"""Study screens driven like a user would: the runner by key presses, the panel by its controls."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PySide6", reason="GUI tests need PySide6")

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton

from isp_viewer.core.region import Region
from isp_viewer.study.analysis import analyse
from isp_viewer.study.design import Method, Protocol, ReferenceMode, StudyDesign, TrainingItem
from isp_viewer.study.exports import read_ratings_csv
from isp_viewer.study.store import StudyStore
from isp_viewer.ui.study_panel import StudyPanel
from isp_viewer.ui.study_runner import BACKGROUND, StudyRunnerWindow

METHODS = [("sharp", "SharpNet"), ("soft", "SoftISP"), ("blocky", "BlockyCam")]
# What a simulated observer thinks of each method (1-5); the second observer is one step harsher
# on the worst method, so the two do not agree perfectly.
OPINION = {"ann": {"sharp": 5, "soft": 3, "blocky": 2}, "bob": {"sharp": 4, "soft": 3, "blocky": 1}}
KEYS = {1: Qt.Key.Key_1, 2: Qt.Key.Key_2, 3: Qt.Key.Key_3, 4: Qt.Key.Key_4, 5: Qt.Key.Key_5}


def synthetic_provider(method_id: str, region: Region) -> np.ndarray:
    """A test pattern on the reference grid, degraded differently per method (HxWx3 float32 [0,1])."""
    yy, xx = np.mgrid[region.y:region.y1, region.x:region.x1].astype(np.float32)
    base = np.stack([(np.sin(xx / 3.0) + 1) / 2, (np.cos(yy / 4.0) + 1) / 2, ((xx + yy) % 16) / 15], axis=2)
    if method_id == "soft":
        base = (base + np.roll(base, 1, axis=1) + np.roll(base, 1, axis=0)) / 3
    elif method_id == "blocky":
        base = np.repeat(np.repeat(base[::4, ::4], 4, axis=0), 4, axis=1)[: region.h, : region.w]
    elif method_id == "gt":
        base = base * 0.5 + 0.25
    return np.ascontiguousarray(base, dtype=np.float32)


@pytest.fixture
def store(tmp_path: Path):
    with StudyStore(tmp_path / "project.db") as s:
        yield s


@pytest.fixture
def panel(qtbot, store):
    p = StudyPanel(store, synthetic_provider, METHODS)
    qtbot.addWidget(p)
    p.resize(1000, 800)
    return p


def _rate_with_keys(qtbot, runner: StudyRunnerWindow, observer: str) -> None:
    qtbot.keyClicks(runner.observer_edit, observer)
    qtbot.keyClick(runner.observer_edit, Qt.Key.Key_Return)
    assert runner.state == "rating"
    while runner.state == "rating":
        trial = runner.session.current
        qtbot.keyClick(runner, KEYS[OPINION[observer][trial.method_id]])
    assert runner.state == "done"


def test_complete_study_designed_run_analysed_exported_and_reloaded(qtbot, panel, store, tmp_path) -> None:
    # Design: two crops (added as the main window would, from ROIs) x three methods x ACR.
    fence = panel.add_crop(Region(4, 6, 24, 16), "fence", "moiré")
    panel.add_crop(Region(40, 10, 16, 16), "sky", "noise")
    assert panel.crop_table.rowCount() == 2
    panel.set_protocol(Protocol.ACR)
    panel.grey.setValue(0.0)
    panel.zoom.setValue(3)
    panel.seed.setValue(42)
    design = panel.design_from_controls()
    assert (design.protocol, design.conditions, design.zoom, design.n_test_trials) == \
        (Protocol.ACR, ("sharp", "soft", "blocky"), 3, 6)

    finished = []
    for observer in ("ann", "bob"):
        runner = panel.run_session(show=False)
        qtbot.addWidget(runner)
        runner.finished.connect(lambda: finished.append(True))
        runner.show()
        _rate_with_keys(qtbot, runner, observer)
        runner.close()
    assert len(finished) == 2

    records = store.ratings(design.study_id)
    assert len(records) == 12 and {r.observer for r in records} == {"ann", "bob"}
    assert all(r.rating == OPINION[r.observer][r.method_id] for r in records)

    result = panel.analyse()
    mos = {r.method_id: r.mos for r in result.per_method}
    assert mos == pytest.approx({"sharp": 4.5, "soft": 3.0, "blocky": 1.5})
    # sharp: 5, 5, 4, 4 -> s = 0.57735, t(0.975, 3) = 3.182446 -> CI = 0.918693
    sharp = result.per_method[0]
    assert sharp.n == 4 and sharp.ci == pytest.approx(3.182446 * np.sqrt(1 / 3) / 2, abs=1e-5)
    assert result.per_method[1].ci == 0.0  # unanimous
    assert result.rejected == ()
    table = panel.results_table
    assert table.rowCount() == 3 + 6
    assert [table.item(r, 0).text() for r in range(3)] == ["SharpNet", "SoftISP", "BlockyCam"]
    assert table.item(0, 3).text() == "4.50" and table.item(0, 4).text() == "± 0.92"
    assert "none" in panel.rejected_label.text()

    files = panel.export_csv(tmp_path / "ratings.csv")
    assert [f.name for f in files] == ["ratings.csv", "ratings_analysis.csv", "ratings_sureal.py"]
    reloaded = analyse(design, read_ratings_csv(tmp_path / "ratings.csv"))
    assert reloaded.per_method == result.per_method
    assert reloaded.per_method_crop == result.per_method_crop
    with open(tmp_path / "ratings_analysis.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["table"] == "mos"]
    assert [(r["label"], float(r["score"])) for r in rows] == [("SharpNet", 4.5), ("SoftISP", 3.0), ("BlockyCam", 1.5)]

    # Crop edits in the panel are in the database at once.
    panel.crop_table.item(0, 1).setText("fence, left")
    panel.crop_table.item(0, 3).setText("zipper on the posts")
    panel.crop_table.cellWidget(0, 2).setCurrentText("zippering")
    with StudyStore(store.path) as other:
        again = {c.id: c for c in other.crops()}[fence.id]
    assert (again.name, again.note, again.tag) == ("fence, left", "zipper on the posts", "zippering")


def test_runner_shows_blind_zoomed_stimuli_and_pauses(qtbot, store) -> None:
    crops = (store.add_crop("a", Region(2, 3, 10, 6)), store.add_crop("b", Region(20, 5, 8, 8)))
    design = StudyDesign(crops, tuple(Method(i, label) for i, label in METHODS), zoom=4, grey_interval_s=0.05,
                         training=(TrainingItem(crops[0].id, "soft"),))
    runner = StudyRunnerWindow(store, design, synthetic_provider, observer_id="cat")
    qtbot.addWidget(runner)
    runner.show()
    qtbot.keyClick(runner, Qt.Key.Key_3)        # nothing to rate before the observer starts
    assert runner.state == "observer" and store.ratings(include_training=True) == []
    assert runner.start()
    assert runner.state == "grey"              # a grey field first
    qtbot.keyClick(runner, Qt.Key.Key_3)        # keys on the grey field are ignored
    qtbot.waitUntil(lambda: runner.state == "rating", timeout=2000)
    assert runner.progress_label.text() == "Practice 1 / 1"
    qtbot.keyClick(runner, Qt.Key.Key_3)
    qtbot.waitUntil(lambda: runner.state == "rating", timeout=2000)
    assert runner.progress_label.text() == "1 / 6"

    # The stimulus: exact 4x nearest-neighbour copy of the provider's pixels.
    trial = runner.session.current
    crop = design.crop(trial.crop_id)
    shown = runner.image_labels[0].pixmap().toImage()
    assert (shown.width(), shown.height()) == (crop.region.w * 4, crop.region.h * 4)
    src = (np.clip(synthetic_provider(trial.method_id, crop.region), 0, 1) * 255 + 0.5).astype(np.uint8)
    for (x, y) in ((0, 0), (7, 5), (crop.region.w * 4 - 1, crop.region.h * 4 - 1)):
        c = shown.pixelColor(x, y)
        assert (c.red(), c.green(), c.blue()) == tuple(src[y // 4, x // 4])
    # Blind: no method name anywhere on screen.
    texts = [w.text() for w in runner.findChildren(QLabel)] + [b.text() for b in runner.findChildren(QPushButton)]
    assert not any(label in t for t in texts for _, label in METHODS)
    assert [b.text().split("\n")[1] for b in runner.answer_buttons] == ["Bad", "Poor", "Fair", "Good", "Excellent"]

    # Pause (Esc), keys are ignored, resume (P) shows the same trial again.
    qtbot.keyClick(runner, Qt.Key.Key_Escape)
    assert runner.state == "paused" and store.session_info(runner.session.session_id).paused
    qtbot.keyClick(runner, Qt.Key.Key_5)
    assert len(store.ratings(include_training=True)) == 1
    qtbot.keyClick(runner, Qt.Key.Key_P)
    qtbot.waitUntil(lambda: runner.state == "rating", timeout=2000)
    assert runner.session.current == trial and not store.session_info(runner.session.session_id).paused
    runner.answer_buttons[4].click()
    (r,) = store.ratings(design.study_id)
    assert (r.rating, r.method_id, r.crop_id) == (5, trial.method_id, trial.crop_id)
    assert r.response_time is not None and r.response_time >= 0

    # Screenshot: the field around the stimulus is the dark grey background.
    qtbot.waitUntil(lambda: runner.state == "rating", timeout=2000)
    shot = runner.grab().toImage()
    assert shot.pixelColor(5, shot.height() // 2).name() == BACKGROUND

    # Closing mid-session pauses; a new runner for the same observer resumes at the first unrated trial.
    runner.close()
    again = StudyRunnerWindow(store, design, synthetic_provider, observer_id="cat")
    qtbot.addWidget(again)
    assert again.start()
    assert again.session.session_id == runner.session.session_id and again.session.position == 2


def test_pairwise_runner_uses_a_b_keys_and_dcr_shows_the_reference(qtbot, store) -> None:
    crop = store.add_crop("a", Region(0, 0, 8, 8))
    methods = tuple(Method(i, label) for i, label in METHODS)
    pw = StudyDesign((crop,), methods, protocol=Protocol.PAIRWISE, zoom=2, grey_interval_s=0)
    runner = StudyRunnerWindow(store, pw, synthetic_provider, observer_id="dan")
    qtbot.addWidget(runner)
    runner.show()
    runner.start()
    assert [c.text() for c in runner.captions] == ["A", "B"]
    shown = []
    for key in (Qt.Key.Key_Left, Qt.Key.Key_B, Qt.Key.Key_A):
        t = runner.session.current
        shown.append(t.method_id if key in (Qt.Key.Key_Left, Qt.Key.Key_A) else t.method_b)
        qtbot.keyClick(runner, key)
    assert runner.state == "done"
    assert [r.choice for r in store.ratings(pw.study_id)] == shown

    dcr = StudyDesign((crop,), methods[:2], protocol=Protocol.DCR, reference=Method("gt", "Ground truth"),
                      reference_mode=ReferenceMode.SHOWN, grey_interval_s=0)
    runner = StudyRunnerWindow(store, dcr, synthetic_provider, observer_id="eve")
    qtbot.addWidget(runner)
    runner.show()
    runner.start()
    assert [c.text() for c in runner.captions] == ["Reference", "Test"]
    ref_img = runner.image_labels[0].pixmap().toImage()
    expected = (np.clip(synthetic_provider("gt", crop.region)[0, 0], 0, 1) * 255 + 0.5).astype(np.uint8)
    c = ref_img.pixelColor(0, 0)
    assert (c.red(), c.green(), c.blue()) == tuple(expected)
    assert runner.answer_buttons[0].text() == "1\nVery annoying"
    qtbot.keyClick(runner, Qt.Key.Key_4)
    assert store.ratings(dcr.study_id)[0].rating == 4


def test_panel_pairwise_analysis_and_invalid_design_message(qtbot, panel, store, tmp_path) -> None:
    panel.add_crop(Region(0, 0, 8, 8), "a")
    panel.set_protocol(Protocol.PAIRWISE)
    panel.grey.setValue(0.0)
    preference = ["sharp", "soft", "blocky"]   # every observer prefers the earlier one
    for observer in ("p1", "p2", "p3"):
        runner = panel.run_session(observer, show=False)
        qtbot.addWidget(runner)
        runner.start()
        while runner.state == "rating":
            t = runner.session.current
            better_a = preference.index(t.method_id) < preference.index(t.method_b)
            qtbot.keyClick(runner, Qt.Key.Key_A if better_a else Qt.Key.Key_B)
    result = panel.analyse()
    assert list(result.bradley_terry.method_ids) == preference
    assert result.bradley_terry.scores[0] > result.bradley_terry.scores[1] > result.bradley_terry.scores[2]
    assert result.matrix.tolist() == [[0, 3, 3], [0, 0, 3], [0, 0, 0]]
    assert panel.results_table.item(0, 0).text() == "SharpNet"
    files = panel.export_csv(tmp_path / "pw.csv")
    assert files[-1].name == "pw_pwcmp.csv"

    panel.set_checked_methods(["sharp"])
    assert panel.run_session(show=False) is None
    assert "at least two methods" in panel.status.text()


def test_screenshots(qtbot, panel, store, tmp_path) -> None:
    """Screens rendered offscreen (saved under tmp_path; ISPV_SCREENSHOTS=dir keeps copies)."""
    import os

    panel.add_crop(Region(4, 6, 24, 16), "fence", "moiré")
    panel.add_crop(Region(40, 10, 16, 16), "sky", "noise")
    panel.grey.setValue(0.0)
    panel.zoom.setValue(6)
    for observer in ("ann", "bob"):
        runner = panel.run_session(show=False)
        qtbot.addWidget(runner)
        runner.resize(900, 600)
        runner.show()
        _rate_with_keys(qtbot, runner, observer)
    runner = panel.run_session("cyd", show=False)
    qtbot.addWidget(runner)
    runner.resize(900, 600)
    runner.show()
    runner.start()
    qtbot.keyClick(runner, Qt.Key.Key_4)
    panel.show()
    panel.analyse()
    out = Path(os.environ.get("ISPV_SCREENSHOTS", tmp_path))
    assert runner.grab().save(str(out / "study_runner.png"))
    assert panel.grab().save(str(out / "study_analysis.png"))
    assert (out / "study_runner.png").stat().st_size > 1000


def test_start_by_click_and_a_narrow_panel_shows_every_control(qtbot, store, tmp_path) -> None:
    """At the dock's default width (~380 px) no label is cut and the MOS/CI columns and whiskers fit."""
    from PySide6.QtCore import QPoint
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QFormLayout

    narrow = StudyPanel(store, synthetic_provider, METHODS)
    qtbot.addWidget(narrow)
    narrow.resize(380, 1100)
    narrow.show()
    qtbot.waitExposed(narrow)
    narrow.add_crop(Region(0, 0, 8, 8), "a")
    narrow.grey.setValue(0.0)
    form = narrow.findChild(QFormLayout)
    for row in range(form.rowCount()):
        label = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
        if label is not None and label.widget() is not None and label.widget().text():
            w = label.widget()
            assert w.width() >= w.sizeHint().width(), f"label {w.text()!r} is cut"
    assert narrow.protocol_combo.width() >= narrow.protocol_combo.minimumSizeHint().width()

    runner = narrow.run_session(show=False)
    qtbot.addWidget(runner)
    runner.show()
    qtbot.waitExposed(runner)
    qtbot.keyClicks(runner.observer_edit, "clicker")
    QTest.mouseClick(runner.start_button, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    assert runner.state == "rating" and runner.session.observer_id == "clicker"
    while runner.state == "rating":
        runner.answer_buttons[{"sharp": 4, "soft": 2, "blocky": 0}[runner.session.current.method_id]].click()
    narrow.analyse_button.click()
    table = narrow.results_table
    header = table.horizontalHeader()
    for c in range(table.columnCount()):   # every column lies inside the viewport
        assert header.sectionViewportPosition(c) + header.sectionSize(c) <= table.viewport().width() + 1
    assert table.item(0, 3).text() == "5.00"
    lo, hi = narrow.results.value_axis_range
    assert lo <= 1 and hi >= 5
    mos_ci = [(r.mos, r.ci) for r in narrow.last_analysis.per_method]
    assert all(lo <= m - (0 if np.isnan(c) else c) and m + (0 if np.isnan(c) else c) <= hi for m, c in mos_ci)
