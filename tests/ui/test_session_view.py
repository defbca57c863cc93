"""Change the session, check what the panes show (napari style)."""

from __future__ import annotations

import numpy as np

from isp_viewer.core.image import Image
from isp_viewer.core.methods import ClassicalMethod, FileMethod
from isp_viewer.core.region import Region
from tests.ui.conftest import wait_idle


def _ramp(w: int, h: int, shift: float = 0.0) -> Image:
    x = np.linspace(0, 1, w, dtype=np.float32)[None, :, None]
    y = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    pixels = np.clip(np.broadcast_to(x * 0.7 + y * 0.3 + shift, (h, w, 3)), 0, 1).astype(np.float32)
    return Image(pixels, source="/r.png")


def _ready(qtbot, win, label, image, is_input=False, method=None, path="/r.png"):
    item = win.session.add_item(label, path if is_input else "", method or FileMethod(), is_input=is_input)
    win.session.update_item(item.id, image=image, status="ready")
    qtbot.waitUntil(lambda: win.panes[item.id].display is not None, timeout=10000)
    return item.id


def test_viewport_roi_reference_and_display_from_the_session(qtbot, window):
    win = window
    ref = _ready(qtbot, win, "ref", _ramp(200, 100), is_input=True)
    other = _ready(qtbot, win, "other", _ramp(200, 100, 0.2), method=ClassicalMethod("bilinear"))
    wait_idle(qtbot, win)
    win.session.set_viewport(50, 40, 4.0)
    for pane in win.panes.values():
        (x0, x1), (y0, y1) = pane.view.viewRange()
        assert abs((x0 + x1) / 2 - 50) < 1 and abs((y0 + y1) / 2 - 40) < 1
        assert abs(pane.zoom_factor() - 4.0) < 0.05
    win.session.set_roi(Region(190, 90, 30, 30))    # reaches outside: moved inside the image
    assert win.session.roi == Region(170, 70, 30, 30)
    for pane in win.panes.values():
        assert tuple(pane.roi_item.pos()) == (170, 70)
    qtbot.waitUntil(lambda: win.analysis.convention_label.text().endswith("30×30 px"), timeout=10000)
    win.session.set_reference(other)
    assert win.panes[other].title.text().startswith("★") and not win.panes[ref].title.text().startswith("★")
    before = win.panes[ref].display.copy()
    win.exposure_box.setValue(1.0)
    assert win.session.display.exposure == 1.0
    qtbot.waitUntil(lambda: not np.array_equal(win.panes[ref].display, before), timeout=10000)
    assert win.panes[ref].display.mean() > before.mean()


def test_removing_a_pane_leaves_nothing_behind(qtbot, window, tmp_path):
    from PIL import Image as PILImage

    win = window
    ref_image = _ramp(64, 48)
    path = tmp_path / "r.png"
    PILImage.fromarray((ref_image.data * 255).astype(np.uint8)).save(path)
    _ready(qtbot, win, "ref", ref_image.with_data(ref_image.data, source=str(path)), is_input=True, path=str(path))
    gone = _ready(qtbot, win, "gone", _ramp(64, 48, 0.1), method=ClassicalMethod("malvar"))
    win.session.set_reference(win.session.reference_id)   # chosen: rows carry numbers
    qtbot.waitUntil(lambda: len(win.session.metric_rows) == 1 and win.bridge.pending == 0, timeout=10000)
    assert win.analysis.table.rowCount() == 1 and len(win.analysis.plot.listDataItems()) == 2
    win.session.remove_item(gone)
    assert gone not in win.panes and gone not in win.session.metric_rows and gone not in win.session.spectra
    assert win.analysis.table.rowCount() == 0 and len(win.analysis.plot.listDataItems()) == 1
    doc = win.session_doc(tmp_path)
    assert [m.options for m in doc.methods if isinstance(m.options, ClassicalMethod)] == []


def test_two_shapes_keep_their_aspect(qtbot, window, data):
    win = window
    win.open_files([str(data / "raw" / "Blackmagic.dng"), str(data / "raw" / "RAW_KODAK_DC50_é.KDC")])
    qtbot.waitUntil(lambda: sum(i.status == "ready" for i in win.session.items.values()) == 2, timeout=120000)
    wait_idle(qtbot, win)
    sizes = set()
    for pane in win.panes.values():
        image = win.session.items[pane.item_id].image
        sizes.add((image.width, image.height))
        rect = pane.image_item.mapRectToParent(pane.image_item.boundingRect())
        assert abs((rect.width() / image.width) / (rect.height() / image.height) - 1.0) < 0.01
    assert (4128, 2176) in sizes and len(sizes) == 2
