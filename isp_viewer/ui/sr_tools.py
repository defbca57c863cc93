"""Super-resolution from a ground truth, in the window: "Simulate low resolution ×s".

The current pane's RGB image is taken as the HR ground truth. A worker makes its bicubic
×1/s copy (io.resize: MATLAB imresize with antialiasing, as SR papers do), then:
the ground-truth pane becomes the reference (cropped to a multiple of s), the LR copy opens in
its own pane and becomes the networks' input, and the metrics switch to the SR-paper
convention (Y, crop = s, uint8), which the analysis dock states. An SR network run from the
Run-methods dock then lands on the HR grid and is scored there.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QComboBox, QGroupBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from isp_viewer.core.errors import IspViewerError
from isp_viewer.core.image import Image
from isp_viewer.core.methods import FileMethod, SimulatedLowRes
from isp_viewer.export.session_doc import lr_key
from isp_viewer.io.resize import SR_SCALES, describe, simulate_low_resolution


class SimulateLowResolutionBox(QGroupBox):
    """A scale and a button, for the Run-methods dock."""

    def __init__(self, window, parent: QWidget | None = None) -> None:
        super().__init__("Super-resolution input", parent)
        self.window = window
        self.scale = QComboBox()
        for s in SR_SCALES:
            self.scale.addItem(f"×{s}", s)
        self.scale.setCurrentIndex(SR_SCALES.index(4))
        self.button = QPushButton("Simulate low resolution")
        self.button.setToolTip("Take the current pane as ground truth and make its bicubic low-resolution copy "
                               "(MATLAB imresize, antialiased) as the networks' input")
        self.button.clicked.connect(lambda _checked=False: simulate(self.window, int(self.scale.currentData())))
        self.note = QLabel("Current pane = HR ground truth")
        self.note.setStyleSheet("color: #666; font-size: 10px;")
        self.note.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.scale)
        row.addWidget(self.button, 1)
        v = QVBoxLayout(self)
        v.addLayout(row)
        v.addWidget(self.note)


def install(window, layout) -> SimulateLowResolutionBox:
    """Add the box to `layout` (the Run-methods dock) and File-menu actions for every scale."""
    box = SimulateLowResolutionBox(window)
    layout.insertWidget(0, box)
    QTimer.singleShot(0, lambda: _add_menu(window))   # the window builds its menus after its docks
    return box


def _add_menu(window) -> None:
    menu = next((a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "File"), None)
    if menu is None:
        return
    sub = menu.addMenu("Simulate &low resolution (current pane = ground truth)")
    for s in SR_SCALES:
        sub.addAction(f"Bicubic ×{s}").triggered.connect(lambda _c=False, s=s: simulate(window, s))


def simulate(window, scale: int) -> int | None:
    """Start the simulation on the current pane; returns its item id (None with a message)."""
    item = window.session.items.get(window.current_id) if window.current_id is not None else None
    if item is None or item.status != "ready" or item.image is None:
        window.show_error("Open an RGB ground-truth image and click its pane first")
        return None
    if isinstance(item.method, SimulatedLowRes):
        window.show_error("This pane is already a low-resolution input; click its ground truth")
        return None
    source = window.session.sources.get(item.source_path)
    if source is not None and not isinstance(source, Image):
        window.show_error("Simulated low resolution starts from an RGB ground truth, not from a RAW mosaic")
        return None
    return simulate_item(window, item.id, scale)


def simulate_item(window, item_id: int, scale: int) -> int:
    """Make the ×1/scale input of ground-truth pane `item_id` in a worker (also a reopened session's)."""
    item = window.session.items[item_id]
    image = item.image
    window.statusBar().showMessage(f"making the ×1/{scale} input: {describe(scale)}", 8000)
    window.bridge.submit(lambda: simulate_low_resolution(image, scale),
                         lambda pair, i=item.id: _ready(window, i, scale, *pair),
                         lambda err: window.show_error(str(err) if isinstance(err, IspViewerError) else repr(err)))
    return item.id


def _ready(window, gt_id: int, scale: int, hr: Image, lr: Image) -> None:
    session = window.session
    gt = session.items.get(gt_id)
    if gt is None:
        return   # closed meanwhile
    name = Path(gt.source_path or gt.label).name
    key = lr_key(gt.source_path or name, scale)
    session.sources[key] = lr
    session.update_item(gt_id, image=hr, label=f"{name} (ground truth)", method=FileMethod(ground_truth=True))
    session.set_reference(gt_id)
    lr_item = session.add_item(f"{name} · bicubic ×1/{scale} (SR input)", key, SimulatedLowRes(scale))
    session.update_item(lr_item.id, image=lr, status="ready", message="")
    window.set_current(lr_item.id)
    window._set_models_source(lr)   # not window.models: that would build the network panel (torch) here
    window.analysis.use_sr_convention(scale)
    window.statusBar().showMessage(f"SR input ×1/{scale} ready ({lr.width}×{lr.height}); tick an SR network and "
                                   f"Run. Scored on the HR grid: {window.analysis.current_convention().describe()}",
                                   15000)
