"""Export dialog: edit a figure layout with a live preview, then write it with `export_figure`.

The dialog never screenshots widgets: its preview is the PNG renderer's output for the current
layout, composed in a worker thread and shown scaled down. Saving calls the same
`export_figure` as the CLI, so the file equals `isp-viewer export SESSION --figure NAME --out F`.

The owner passes the SessionDoc and an ImageProvider (see isp_viewer.export.figure_export) and
listens to `documentChanged(SessionDoc)` to store the edited layout (e.g. for autosave).
"""

from __future__ import annotations

import contextlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from isp_viewer.core.errors import IspViewerError
from isp_viewer.export.figure import FigureLayout
from isp_viewer.export.figure_export import FORMATS, ImageProvider, export_figure
from isp_viewer.export.figure_preview import CachingProvider, preview_pixels, result_or_error
from isp_viewer.export.session_file import SessionDoc

PREVIEW_SIZE = QSize(720, 420)
PREVIEW_DELAY_MS = 150
INSET_PLACES = (("beside", "bottom-right", "Beside the image"), ("below", "bottom-right", "Below the image"),
                ("overlay", "top-left", "Overlay, top left"), ("overlay", "top-right", "Overlay, top right"),
                ("overlay", "bottom-left", "Overlay, bottom left"),
                ("overlay", "bottom-right", "Overlay, bottom right"))
FORMAT_FILTERS = {"png": "PNG image (*.png)", "svg": "SVG drawing (*.svg)", "pdf": "PDF document (*.pdf)",
                  "pptx": "PowerPoint deck (*.pptx)"}


def _qimage(pixels: np.ndarray) -> QImage:
    h, w = pixels.shape[:2]
    return QImage(pixels.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class ExportDialog(QDialog):
    """Layout controls, a live preview and Save. `figure_layout()` is what the controls describe."""

    documentChanged = Signal(object)     # SessionDoc with the edited layout under the figure's name
    previewReady = Signal(int)           # generation of the preview now shown
    exported = Signal(str)               # path written
    _previewDone = Signal(int, object)   # worker -> GUI thread: (generation, pixels or error)

    def __init__(self, doc: SessionDoc, image_provider: ImageProvider, figure_name: str = "figure",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export figure")
        self._doc = doc
        self._provider = CachingProvider(image_provider)
        self._base_layout = doc.figures.get(figure_name, FigureLayout())
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="figure-preview")
        self._generation = 0
        self._shown_generation = 0
        self._preview_timer = QTimer(self, singleShot=True, interval=PREVIEW_DELAY_MS)
        self._preview_timer.timeout.connect(self.refresh_preview)
        self._previewDone.connect(self._show_preview)
        self._build(figure_name)
        self.set_layout(self._base_layout)
        self._connect_changes()
        self.schedule_preview()

    # ---------------------------------------------------------------- widgets

    def _build(self, figure_name: str) -> None:
        self.name_edit = QComboBox(editable=True)
        self.name_edit.addItems(list(self._doc.figures) or [figure_name])
        self.name_edit.setCurrentText(figure_name)
        self.name_edit.currentTextChanged.connect(self._load_named_layout)

        self.methods_list = self._checklist([(m.id, m.label) for m in self._doc.methods], reorderable=True)
        self.rois_list = self._checklist([(r.id, r.name or r.id) for r in self._doc.rois], reorderable=True)
        up, down = QPushButton("Up"), QPushButton("Down")
        up.clicked.connect(lambda: self._move_method(-1))
        down.clicked.connect(lambda: self._move_method(+1))
        order_buttons = QHBoxLayout()
        order_buttons.addWidget(up)
        order_buttons.addWidget(down)
        methods_box = QVBoxLayout()
        methods_box.addWidget(self.methods_list)
        methods_box.addLayout(order_buttons)

        self.rows_combo = QComboBox()
        self.rows_combo.addItem("One cell per method", "images")
        self.rows_combo.addItem("One row per ROI", "rois")
        self.inset_size = QSpinBox(minimum=8, maximum=4000, singleStep=16, suffix=" px")
        self.inset_place = QComboBox()
        for position, corner, text in INSET_PLACES:
            self.inset_place.addItem(text, f"{position}:{corner}")
        self.spacing = QSpinBox(minimum=0, maximum=200, suffix=" px")
        self.font_size = QDoubleSpinBox(minimum=4.0, maximum=72.0, singleStep=0.5, decimals=1, suffix=" pt")
        self.columns = QSpinBox(minimum=1, maximum=32)
        self.view_width = QSpinBox(minimum=0, maximum=20000, singleStep=64, suffix=" px", specialValueText="native")
        self.show_labels = QCheckBox("Method labels")
        self.show_captions = QCheckBox("Metric captions")
        self.caption_metrics = QLineEdit(placeholderText="PSNR/SSIM")
        self.error_map = QCheckBox("Error-map row")
        self.dpi = QSpinBox(minimum=36, maximum=1200, singleStep=50, suffix=" dpi")
        self.format_combo = QComboBox()
        for fmt in FORMATS:
            self.format_combo.addItem(fmt.upper(), fmt)

        form = QFormLayout()
        form.addRow("Figure", self.name_edit)
        form.addRow("Arrangement", self.rows_combo)
        form.addRow("Inset size", self.inset_size)
        form.addRow("Insets", self.inset_place)
        form.addRow("Spacing", self.spacing)
        form.addRow("Font size", self.font_size)
        form.addRow("Columns", self.columns)
        form.addRow("View width", self.view_width)
        form.addRow(self.show_labels)
        captions = QHBoxLayout()
        captions.addWidget(self.show_captions)
        captions.addWidget(self.caption_metrics)
        form.addRow(captions)
        form.addRow(self.error_map)
        form.addRow("Resolution", self.dpi)
        form.addRow("Format", self.format_combo)

        lists = QHBoxLayout()
        methods_group, rois_group = QGroupBox("Methods (drag to reorder)"), QGroupBox("ROIs")
        methods_group.setLayout(methods_box)
        rois_layout = QVBoxLayout()
        rois_layout.addWidget(self.rois_list)
        rois_group.setLayout(rois_layout)
        lists.addWidget(methods_group)
        lists.addWidget(rois_group)

        self.preview = QLabel("Rendering preview…", alignment=Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(PREVIEW_SIZE)
        self.status = QLabel("")

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.save_button = buttons.addButton("Save…", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self._ask_and_save)

        left = QVBoxLayout()
        left.addLayout(lists)
        left.addLayout(form)
        right = QVBoxLayout()
        right.addWidget(self.preview, 1)
        right.addWidget(self.status)
        body = QHBoxLayout()
        body.addLayout(left)
        body.addLayout(right, 1)
        outer = QVBoxLayout(self)
        outer.addLayout(body)
        outer.addWidget(buttons)

    def _checklist(self, entries: list[tuple[str, str]], reorderable: bool) -> QListWidget:
        widget = QListWidget()
        if reorderable:
            widget.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        for item_id, text in entries:
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, item_id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            widget.addItem(item)
        return widget

    def _connect_changes(self) -> None:
        for box in (self.inset_size, self.spacing, self.columns, self.view_width, self.dpi):
            box.valueChanged.connect(self.schedule_preview)
        self.font_size.valueChanged.connect(self.schedule_preview)
        for combo in (self.rows_combo, self.inset_place):
            combo.currentIndexChanged.connect(self.schedule_preview)
        for check in (self.show_labels, self.show_captions, self.error_map):
            check.toggled.connect(self.schedule_preview)
        self.caption_metrics.editingFinished.connect(self.schedule_preview)
        for widget in (self.methods_list, self.rois_list):
            widget.itemChanged.connect(self.schedule_preview)
            widget.model().rowsMoved.connect(self.schedule_preview)

    # ---------------------------------------------------------------- layout <-> controls

    def figure_name(self) -> str:
        return self.name_edit.currentText().strip() or "figure"

    def export_format(self) -> str:
        return self.format_combo.currentData()

    def figure_layout(self) -> FigureLayout:
        """The FigureLayout the controls describe (fields without a control keep their value)."""
        position, corner = self.inset_place.currentData().split(":")
        return replace(
            self._base_layout,
            methods=tuple(self._checked_ids(self.methods_list)),
            rois=tuple(self._checked_ids(self.rois_list)),
            rows=self.rows_combo.currentData(),
            inset_size=self.inset_size.value(),
            inset_position=position,
            overlay_corner=corner,
            spacing=self.spacing.value(),
            font_size=self.font_size.value(),
            columns=self.columns.value(),
            view_width=self.view_width.value(),
            show_labels=self.show_labels.isChecked(),
            show_captions=self.show_captions.isChecked(),
            caption_metrics=self.caption_metrics.text().strip(),
            error_map=self.error_map.isChecked(),
            dpi=self.dpi.value(),
        )

    def set_layout(self, layout: FigureLayout) -> None:
        self._base_layout = layout
        self._set_checklist(self.methods_list, layout.methods)
        self._set_checklist(self.rois_list, layout.rois)
        self.rows_combo.setCurrentIndex(max(0, self.rows_combo.findData(layout.rows)))
        self.inset_size.setValue(layout.inset_size)
        corner = layout.overlay_corner if layout.inset_position == "overlay" else "bottom-right"
        self.inset_place.setCurrentIndex(max(0, self.inset_place.findData(f"{layout.inset_position}:{corner}")))
        self.spacing.setValue(layout.spacing)
        self.font_size.setValue(layout.font_size)
        self.columns.setValue(layout.columns)
        self.view_width.setValue(layout.view_width)
        self.show_labels.setChecked(layout.show_labels)
        self.show_captions.setChecked(layout.show_captions)
        self.caption_metrics.setText(layout.caption_metrics)
        self.error_map.setChecked(layout.error_map)
        self.dpi.setValue(layout.dpi)

    def document(self) -> SessionDoc:
        """The session with the current layout stored under the figure name."""
        return self._doc.with_figure(self.figure_name(), self.figure_layout())

    @staticmethod
    def _checked_ids(widget: QListWidget) -> list[str]:
        items = (widget.item(i) for i in range(widget.count()))
        return [it.data(Qt.ItemDataRole.UserRole) for it in items if it.checkState() == Qt.CheckState.Checked]

    @staticmethod
    def _set_checklist(widget: QListWidget, chosen: tuple[str, ...] | None) -> None:
        """Chosen ids first in their order and checked, the rest after them unchecked (None: all)."""
        widget.blockSignals(True)
        items = [widget.takeItem(0) for _ in range(widget.count())]
        by_id = {it.data(Qt.ItemDataRole.UserRole): it for it in items}
        order = [i for i in (chosen or ()) if i in by_id] if chosen is not None else list(by_id)
        for item_id in order + [i for i in by_id if i not in order]:
            item = by_id[item_id]
            item.setCheckState(Qt.CheckState.Checked if item_id in order else Qt.CheckState.Unchecked)
            widget.addItem(item)
        widget.blockSignals(False)

    def _move_method(self, step: int) -> None:
        row = self.methods_list.currentRow()
        target = row + step
        if row < 0 or not 0 <= target < self.methods_list.count():
            return
        item = self.methods_list.takeItem(row)
        self.methods_list.insertItem(target, item)
        self.methods_list.setCurrentRow(target)
        self.schedule_preview()

    def _load_named_layout(self, name: str) -> None:
        if name in self._doc.figures:
            self.set_layout(self._doc.figures[name])
            self.schedule_preview()

    # ---------------------------------------------------------------- preview

    def schedule_preview(self, *_: object) -> None:
        """Coalesce bursts of edits (typing in a spin box) into one render."""
        self._preview_timer.start()

    def refresh_preview(self) -> int:
        """Start rendering the current layout in the worker; returns its generation number."""
        self._generation += 1
        generation = self._generation
        size = self.preview.size()
        max_w, max_h = max(size.width(), PREVIEW_SIZE.width()), max(size.height(), PREVIEW_SIZE.height())
        doc, layout = self._doc, self.figure_layout()
        future = self._executor.submit(preview_pixels, doc, layout, self._provider, max_w, max_h)
        future.add_done_callback(lambda f, g=generation: self._deliver(g, f))
        return generation

    def _deliver(self, generation: int, future: Future) -> None:
        """Worker thread: hand the result to the GUI thread (a queued signal)."""
        if future.cancelled():
            return
        with contextlib.suppress(RuntimeError):  # the dialog was destroyed while rendering
            self._previewDone.emit(generation, result_or_error(future))

    def _show_preview(self, generation: int, result: object) -> None:
        if generation != self._generation:
            return  # a newer layout is on its way
        self._shown_generation = generation
        if isinstance(result, np.ndarray):
            self.preview.setPixmap(QPixmap.fromImage(_qimage(result)))
            self.status.setText("")
        else:
            self.preview.setPixmap(QPixmap())
            self.preview.setText(str(result))
            self.status.setText("The current layout cannot be drawn.")
        self.previewReady.emit(generation)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.schedule_preview()  # re-render at the new preview size

    def preview_pixmap(self) -> QPixmap:
        return self.preview.pixmap()

    # ---------------------------------------------------------------- saving

    def save_to(self, path: str | Path) -> Path:
        """Export the current layout to `path` (suffix added from the format when missing)."""
        path = Path(path)
        if path.suffix.lstrip(".").lower() not in FORMATS:
            path = path.with_name(path.name + "." + self.export_format())
        doc = self.document()
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            out = export_figure(doc, self.figure_name(), path, self._provider)
        finally:
            QApplication.restoreOverrideCursor()
        self._doc = doc
        self.documentChanged.emit(doc)
        self.exported.emit(str(out))
        return out

    def _ask_and_save(self) -> None:
        fmt = self.export_format()
        path, _ = QFileDialog.getSaveFileName(self, "Export figure", f"{self.figure_name()}.{fmt}", FORMAT_FILTERS[fmt])
        if not path:
            return
        try:
            out = self.save_to(path)
        except (IspViewerError, OSError) as err:
            QMessageBox.warning(self, "Export failed", str(err))
            return
        self.status.setText(f"Saved {out}")

    def done(self, result: int) -> None:
        self._preview_timer.stop()
        self._executor.shutdown(wait=False, cancel_futures=True)
        super().done(result)

