"""The main window as a user drives it (offscreen): linked panes, inspector, flicker, swipe, errors."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import QTimer

from tests.ui.conftest import wait_idle


@pytest.fixture
def two_kodak(window, qtbot, data):
    window.open_files([str(data / "paired/kodak24/kodim01.png"), str(data / "paired/kodak24/kodim03.png")])
    wait_idle(qtbot, window)
    return window


def test_pan_in_one_pane_moves_all(two_kodak, qtbot):
    win = two_kodak
    panes = list(win.panes.values())
    assert len(panes) == 2
    second = panes[1].view
    second.setRange(xRange=(100, 164), yRange=(200, 264), padding=0)   # as a drag/zoom in pane 2 would
    qtbot.waitUntil(lambda: _same_rect(panes[0], panes[1]), timeout=3000)
    (x0, x1), (y0, y1) = panes[0].view.viewRange()
    assert (x0 + x1) / 2 == pytest.approx(132, abs=0.5) and (y0 + y1) / 2 == pytest.approx(232, abs=0.5)
    second.translateBy(x=10, y=-5)
    qtbot.waitUntil(lambda: _same_rect(panes[0], panes[1]), timeout=3000)
    (x0, x1), _ = panes[0].view.viewRange()
    assert (x0 + x1) / 2 == pytest.approx(142, abs=0.5)


def _same_rect(a, b) -> bool:
    """Same data rectangle: panes can differ by a screen pixel in size (grid rounding), so the
    extents may differ by that much; the zoom (data px per screen px) must be equal."""
    ra, rb = np.array(a.view.viewRange()), np.array(b.view.viewRange())
    scale_a = (ra[0][1] - ra[0][0]) / a.view.width()
    scale_b = (rb[0][1] - rb[0][0]) / b.view.width()
    return bool(np.allclose(ra, rb, atol=max(2 * scale_a, 1e-6)) and abs(scale_a - scale_b) < 1e-6 * scale_a + 1e-9)


def test_zoom_fit_one_to_one_and_limits(two_kodak, qtbot):
    win = two_kodak
    first = next(iter(win.panes.values()))
    win.set_zoom(1.0)
    qtbot.waitUntil(lambda: first.zoom_factor() == pytest.approx(1.0, rel=0.02), timeout=3000)
    assert win.session.viewport.zoom == pytest.approx(1.0, rel=0.02)     # the view is the session's
    win.set_zoom(64.0)   # clamped at 32x
    qtbot.waitUntil(lambda: first.zoom_factor() > 8, timeout=3000)
    assert first.zoom_factor() <= 32.5

    def fitted() -> bool:
        (x0, x1), (y0, y1) = first.view.viewRange()
        return (x0 <= 0.5 and x1 >= 499.5) or (y0 <= 0.5 and y1 >= 499.5)

    win.zoom_fit()
    qtbot.waitUntil(fitted, timeout=3000)
    assert win.session.viewport.zoom is None


def test_inspector_value_at_known_pixel(two_kodak, data):
    import cv2

    win = two_kodak
    rows = win.inspector_values(20, 10)
    bgr = cv2.imread(str(data / "paired/kodak24/kodim01.png"))
    r, g, b = bgr[10, 20, 2], bgr[10, 20, 1], bgr[10, 20, 0]
    assert rows[0][1] == f"{r} {g} {b}"
    assert rows[0][2].split()[0] == f"{r / 255:.4f}"
    win.update_inspector(20, 10)
    assert win.inspector.item(0, 1).text() == f"{r} {g} {b}"


def test_flicker_and_swipe(two_kodak, qtbot):
    win = two_kodak
    ids = list(win.panes)
    win.session.set_reference(ids[0])
    win.set_current(ids[1])
    pane, ref = win.panes[ids[1]], win.panes[ids[0]]
    own = pane.display.copy()
    win.flicker(True)
    assert np.array_equal(pane.image_item.image, ref.display)
    win.flicker(False)
    assert np.array_equal(pane.image_item.image, own)
    win.toggle_swipe()
    assert win.swipe_on and pane.overlay.isVisible()
    pane.swipe_line.setValue(125)
    # left quarter from the reference
    qtbot.waitUntil(lambda: pane.overlay.image.shape[1] == 125, timeout=3000)
    assert np.array_equal(pane.overlay.image, ref.display[:, :125])
    win.toggle_swipe()
    assert not pane.overlay.isVisible()


def test_make_reference_and_scaled_pane_placement(two_kodak, qtbot):
    win = two_kodak
    ids = list(win.panes)
    win.set_current(ids[1])
    win.make_current_reference()
    assert win.session.reference_id == ids[1]
    # a x4 result is placed on the reference grid
    from isp_viewer.core.image import Image
    big = Image(np.zeros((2000, 2000, 3), np.float32), label="x4")
    item = win.session.add_item("x4 result")
    win._set_ready(item.id, big, "x4 result")
    wait_idle(qtbot, win)
    rect = win.panes[item.id].image_item.mapRectToParent(win.panes[item.id].image_item.boundingRect())
    assert rect.width() == pytest.approx(500) and rect.height() == pytest.approx(500)


def test_bad_file_leaves_other_panes_intact(two_kodak, qtbot, data):
    win = two_kodak
    before = {i: p.display.copy() for i, p in win.panes.items()}
    win.open_files([str(data / "bad/truncated_30pct_Blackmagic.dng")])
    wait_idle(qtbot, win)
    assert "truncated_30pct_Blackmagic.dng" in win.last_error
    assert win.error_box.isVisible() and "truncated" in win.error_box.text()
    for i, disp in before.items():
        assert np.array_equal(win.panes[i].display, disp)
    failed = [it for it in win.session.items.values() if it.status == "error"]
    assert len(failed) == 1 and failed[0].message == win.last_error


def test_event_loop_turns_during_slow_decode(window, qtbot, monkeypatch, data):
    import threading

    from isp_viewer.export import method_images as methods

    real = methods.open_and_render
    release = threading.Event()

    def held(path):   # the decode stays on its worker until the test has seen the GUI turn
        release.wait(30)
        return real(path)

    monkeypatch.setattr(methods, "open_and_render", held)
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(20)
    window.open_files([str(data / "paired/kodak24/kodim05.png")])
    qtbot.waitUntil(lambda: len(ticks) > 30, timeout=10000)   # the GUI timer runs while the decode waits
    assert window.bridge.pending > 0
    release.set()
    wait_idle(qtbot, window)
    timer.stop()
    gaps = np.diff(ticks)
    assert gaps.max() < 0.5                      # never frozen for long


def test_raw_opens_with_libraw_render_and_raw_inspector(window, qtbot, data):
    window.open_files([str(data / "raw/RAW_KODAK_DC50_é.KDC")])
    wait_idle(qtbot, window)
    item = next(iter(window.session.items.values()))
    assert item.status == "ready" and item.image.shape == (512, 768, 3)
    rows = window.inspector_values(1, 0)
    raw = window.session.sources[item.source_path]
    assert rows[0][1] == f"raw R {int(raw.mosaic[0, 1])}"     # GRBG: (0,1) is red
