"""An image pane: a pyqtgraph ViewBox on the reference pixel grid, with a crosshair and a busy bar."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressBar, QSizePolicy, QVBoxLayout, QWidget

MAX_ZOOM = 32.0


class ElidedLabel(QLabel):
    """A one-line label drawn with its middle elided when it is too wide (the file name's start and
    the method's end stay readable); text() keeps the whole text, the tooltip shows it."""

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        rect = self.contentsRect()
        shown = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideMiddle, rect.width())
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), shown)
        painter.end()


class ImagePane(QFrame):
    """Shows one PaneItem. Coordinates are always reference-grid pixels: an image of another size
    (a x4 output) is stretched onto the reference rectangle with setRect."""

    clicked = Signal(int)
    mouse_moved = Signal(float, float)   # reference-grid coordinates
    roi_moved = Signal(int, object)      # item id, (x, y, w, h) on the reference grid
    roi_done = Signal(int)

    def __init__(self, item_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.item_id = item_id
        self.display: np.ndarray | None = None   # uint8 HxWx3 currently shown
        self.rect_size: tuple[int, int] = (0, 0)
        self.setFrameShape(QFrame.Shape.Box)
        self.setLineWidth(2)
        self._build()
        self.set_current(False)

    def _build(self) -> None:
        self.title = ElidedLabel("…")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.title.setStyleSheet("font-weight: 600; padding: 2px 4px;")
        # Long labels must not widen the grid: the full text is in the tooltip.
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(110)
        self.busy.setMaximumHeight(14)
        self.busy.setTextVisible(False)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.title, 1)
        top.addWidget(self.busy)
        self.view_widget = pg.GraphicsLayoutWidget()
        self.view_widget.setBackground("#202020")
        self.view = self.view_widget.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.view.setDefaultPadding(0.0)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.image_item)
        self.overlay = pg.ImageItem(axisOrder="row-major")   # swipe: the other image's left part
        self.overlay.setZValue(5)
        self.overlay.hide()
        self.view.addItem(self.overlay)
        pen = pg.mkPen((255, 220, 0, 160), width=1)
        self.vline = pg.InfiniteLine(angle=90, movable=False, pen=pen)
        self.hline = pg.InfiniteLine(angle=0, movable=False, pen=pen)
        for line in (self.vline, self.hline):
            line.setZValue(10)
            line.hide()   # no crosshair until the mouse is over a pane
            self.view.addItem(line, ignoreBounds=True)
        self.swipe_line = pg.InfiniteLine(angle=90, movable=True, pen=pg.mkPen((255, 255, 255), width=2))
        self.swipe_line.setZValue(11)
        self.swipe_line.setHoverPen(pg.mkPen((61, 139, 253), width=4))
        self.swipe_line.addMarker("<|>", position=0.5, size=18)   # the handle to drag
        self.swipe_line.hide()
        self.swipe_line.sigPositionChanged.connect(self._update_swipe)
        self._swipe_other: np.ndarray | None = None
        self.view.addItem(self.swipe_line, ignoreBounds=True)
        self.message = pg.TextItem("", color=(255, 120, 120), anchor=(0.5, 0.5))
        self.view.addItem(self.message, ignoreBounds=True)
        self.view_widget.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.view_widget.scene().sigMouseClicked.connect(lambda _e: self.clicked.emit(self.item_id))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(1)
        layout.addLayout(top)
        layout.addWidget(self.view_widget, 1)

    # --- content -------------------------------------------------------------------------
    def set_title(self, text: str, reference: bool = False) -> None:
        self.full_title = ("★ " if reference else "") + text
        self.title.setText(self.full_title)
        self.title.setToolTip(text)

    def set_busy(self, busy: bool, fraction: float | None = None) -> None:
        self.busy.setVisible(busy)
        if fraction is None:
            self.busy.setRange(0, 0)
        else:
            self.busy.setRange(0, 1000)
            self.busy.setValue(int(fraction * 1000))

    def set_error(self, text: str) -> None:
        self.set_busy(False)
        self.message.setText(text)
        w, h = self.rect_size if self.rect_size != (0, 0) else (100, 100)
        self.message.setPos(w / 2, h / 2)

    def set_display(self, display: np.ndarray, ref_size: tuple[int, int]) -> None:
        """display: uint8 HxWx3; ref_size: (width, height) of the reference grid it covers."""
        self.display = display
        self.rect_size = ref_size
        self.message.setText("")
        self.image_item.setImage(display, levels=(0, 255), autoLevels=False)
        self.image_item.setRect(0, 0, ref_size[0], ref_size[1])
        self.update_limits()

    def show_other(self, display: np.ndarray | None) -> None:
        """Flicker: show another pane's pixels in place of ours (None restores ours)."""
        shown = self.display if display is None else display
        if shown is not None:
            self.image_item.setImage(shown, levels=(0, 255), autoLevels=False)
            self.image_item.setRect(0, 0, *self.rect_size)

    def set_current(self, current: bool) -> None:
        self.setStyleSheet("ImagePane { border: 2px solid %s; }" % ("#3d8bfd" if current else "#444"))

    # --- geometry --------------------------------------------------------------------------
    def update_limits(self) -> None:
        """Zoom from 'fit' out to MAX_ZOOM screen pixels per image pixel."""
        w, h = self.rect_size
        if not w:
            return
        px_w = max(self.view.width(), 1.0)
        px_h = max(self.view.height(), 1.0)
        self.view.setLimits(minXRange=px_w / MAX_ZOOM, minYRange=px_h / MAX_ZOOM,
                            maxXRange=max(w, h) * 4, maxYRange=max(w, h) * 4)

    def zoom_factor(self) -> float:
        """Screen pixels per reference pixel."""
        (x0, x1), _ = self.view.viewRange()
        return self.view.width() / max(x1 - x0, 1e-9)

    def _on_mouse_moved(self, pos) -> None:
        if self.view.sceneBoundingRect().contains(pos):
            p = self.view.mapSceneToView(pos)
            self.mouse_moved.emit(p.x(), p.y())

    def set_crosshair(self, x: float, y: float) -> None:
        self.vline.setPos(x)
        self.hline.setPos(y)
        self.vline.show()
        self.hline.show()

    # --- region of interest --------------------------------------------------------------
    def show_roi(self, rect: tuple[float, float, float, float] | None) -> None:
        """Show (or hide, with None) the shared ROI; dragging it here moves it in every pane."""
        if rect is None:
            if getattr(self, "roi_item", None) is not None:
                self.view.removeItem(self.roi_item)
                self.roi_item = None
            return
        x, y, w, h = rect
        if getattr(self, "roi_item", None) is None:
            self.roi_item = pg.RectROI((x, y), (w, h), pen=pg.mkPen((0, 200, 255), width=2), snapSize=1.0,
                                       translateSnap=True, scaleSnap=True)
            self.roi_item.setZValue(20)
            self.view.addItem(self.roi_item)
            self.roi_item.sigRegionChanged.connect(
                lambda r: self.roi_moved.emit(self.item_id, (r.pos().x(), r.pos().y(), r.size().x(), r.size().y())))
            self.roi_item.sigRegionChangeFinished.connect(lambda _r: self.roi_done.emit(self.item_id))
        else:
            self.roi_item.blockSignals(True)
            self.roi_item.setPos((x, y), update=False)
            self.roi_item.setSize((w, h), update=True)
            self.roi_item.blockSignals(False)

    # --- swipe -----------------------------------------------------------------------------
    def set_swipe(self, other: np.ndarray | None) -> None:
        """Split view: left of the line shows `other` (the reference), right shows this pane."""
        self._swipe_other = other
        if other is None:
            self.overlay.hide()
            self.swipe_line.hide()
            return
        self.swipe_line.setPos(self.rect_size[0] / 2)
        self.overlay.show()
        self.swipe_line.show()
        self._update_swipe()

    def _update_swipe(self) -> None:
        other = self._swipe_other
        if other is None:
            return
        w_ref, h_ref = self.rect_size
        split = float(np.clip(self.swipe_line.value(), 0, w_ref))
        cols = int(round(split / w_ref * other.shape[1]))
        part = np.ascontiguousarray(other[:, : max(cols, 1)])
        self.overlay.setImage(part, levels=(0, 255), autoLevels=False)
        self.overlay.setRect(0, 0, max(cols, 1) * w_ref / other.shape[1], h_ref)
