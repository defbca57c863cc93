"""From the window: tick demosaicnet and two LibRaw baselines on a RAW, press Run, keep panning,
and see the results arrive in linked panes."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QTimer

from isp_viewer.core.methods import NetworkMethod
from tests.ui.conftest import wait_idle


def test_run_network_and_baselines_on_a_raw(window, qtbot, data):
    win = window
    win.open_files([str(data / "raw/RAW_KODAK_DC50_é.KDC")])
    wait_idle(qtbot, win)
    qtbot.waitUntil(lambda: win.models.current_source() is not None, timeout=10000)
    win.baseline_boxes["LibRaw VNG"].setChecked(True)
    win.baseline_boxes["LibRaw DHT"].setChecked(True)
    win.models.set_checked("demosaicnet_bayer", True)
    qtbot.waitUntil(lambda: win.models.run_button.isEnabled(), timeout=30000)
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: (ticks.append(time.perf_counter()), win.master_view().translateBy(x=1, y=0)))
    timer.start(20)
    win.models.run_button.click()
    qtbot.waitUntil(lambda: len([i for i in win.session.items.values() if i.status == "ready"]) == 4, timeout=240000)
    timer.stop()
    wait_idle(qtbot, win)
    labels = [i.label for i in win.session.items.values()]
    assert any("LibRaw VNG" in label for label in labels) and any("LibRaw DHT" in label for label in labels)
    net = next(i for i in win.session.items.values() if isinstance(i.method, NetworkMethod))
    assert "demosaicnet (Bayer)" in net.label and "cpu" in net.label and "fp32" in net.label
    assert net.image.shape == (512, 768, 3)
    # every pane shows the same data rectangle
    ranges = [np.array(p.view.viewRange()) for p in win.panes.values()]
    assert all(np.allclose(r[:, 0] + r[:, 1], ranges[0][:, 0] + ranges[0][:, 1], atol=2) for r in ranges), ranges
    assert np.max(np.diff(ticks)) < 1.0   # the window kept turning while the job ran (generous: shared, noisy machines)


def test_dropped_checkpoint_is_recognised(window, qtbot, data):
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    path = data.parent / "weights/srgan_leftthomas/netG_epoch_8_100.pth"
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    wait_idle(qtbot, window)
    assert window.models.weights_choices().get("srgan_leftthomas_x8") == str(path)
    assert "SRGAN x8" in window.statusBar().currentMessage()
    bad = data / "bad/random_bytes.NEF"
    window.use_checkpoint(str(bad))
    wait_idle(qtbot, window)
    assert "random_bytes.NEF" in window.last_error
