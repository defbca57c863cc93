"""Opening files, the demo and sessions; the session file (save, autosave, export dialog);
drag and drop; recent files; error messages."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QFileDialog, QMessageBox

from isp_viewer.core.errors import IspViewerError
from isp_viewer.core.image import Image
from isp_viewer.core.methods import DEFAULT_RENDER, FileMethod
from isp_viewer.export import method_images as methods
from isp_viewer.io.raw import RAW_SUFFIXES, RawMosaic
from isp_viewer.ui.window_panes import MAX_PANES

# ISPV_NATIVE_DIALOGS=0 asks for Qt's own file dialogs (what tests type into; also on desktops
# whose native dialog misbehaves).
DIALOG_OPTIONS = (QFileDialog.Option.DontUseNativeDialog if os.environ.get("ISPV_NATIVE_DIALOGS") == "0"
                  else QFileDialog.Option(0))
FILE_FILTER = ("Images, RAW and sessions (*.ispv *.dng *.cr2 *.cr3 *.nef *.arw *.raf *.orf *.rw2 *.pef *.srw "
               "*.kdc *.gpr *.x3f *.raw *.png *.tif *.tiff *.jpg *.jpeg *.bmp);;All files (*)")


def ground_truth_label(path: str) -> str:
    """The title of a ground truth the other panes are made from (the demo's, a reopened one's)."""
    return f"Reference: {Path(path).name} (ground truth)"


class FilesAndSessions:
    """Part of MainWindow (ui.main_window), which holds the state these methods share."""

    def open_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Open RAW files, images or a session", "", FILE_FILTER,
                                                options=DIALOG_OPTIONS)
        self.open_files(paths)

    def open_files(self, paths: list[str]) -> None:
        """Open images and RAW files as new panes; a session file (.ispv) replaces the panes."""
        from isp_viewer.ui.session_restore import is_session, open_session

        for path in [p for p in paths if is_session(p)][:1]:
            if open_session(self, path):
                self._remember_recent(path)
        for path in [p for p in paths if not is_session(p)][: MAX_PANES]:
            self.open_input(str(path))
            self._remember_recent(path)

    def open_input(self, path: str, method=None, label: str | None = None) -> int:
        """One opened file as a pane (RAW: LibRaw's default rendering; image: as it is)."""
        if method is None:
            method = DEFAULT_RENDER if Path(path).suffix.lower() in RAW_SUFFIXES else FileMethod()
        item = self.session.add_item(label or Path(path).name, str(path), method, is_input=True)
        self._open_preview_first(str(path), item.id)
        return item.id

    def open_session_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open session", "", "ISP Viewer session (*.ispv);;All files (*)",
                                              options=DIALOG_OPTIONS)
        if path:
            self.open_files([path])

    def _open_preview_first(self, path: str, item_id: int) -> None:
        """The quick preview on screen first, then the full decode: run side by side on a small
        machine they slow each other down, and the first pixels are what the user waits for."""
        def decode(_preview_failed=None) -> None:
            self.bridge.submit(lambda: methods.open_and_render(path), lambda res: self._opened(item_id, res),
                               lambda err: self._failed(item_id, err))

        def preview_ready(preview) -> None:
            self._show_preview(item_id, preview)
            decode()

        self.bridge.submit(lambda: methods.quick_preview_or_none(path), preview_ready, decode)

    def open_demo(self) -> None:
        """A comparison with known ground truth: a bundled photo, mosaicked, demosaicked."""
        ref_item = self.session.add_item("Demo reference (ground truth)", method=FileMethod(ground_truth=True))
        exposure = self.exposure

        def load():
            reference, mosaic = methods.demo_source()
            return reference, mosaic, reference.to_display(exposure, None)

        self.bridge.submit(load, lambda res: self._demo_ready(ref_item.id, res),
                           lambda err: self._failed(ref_item.id, err))

    def _demo_ready(self, ref_id: int, result) -> None:
        reference, mosaic, display = result
        if (pane := self.panes.get(ref_id)) is not None:
            pane.set_display(display, (reference.width, reference.height))   # the ground truth's pixels first
        self.session.sources[mosaic.path] = mosaic
        self._set_models_source(mosaic)
        self._set_ready(ref_id, reference, ground_truth_label(reference.source))
        self.session.set_reference(ref_id)
        # The baselines and the network start after that paint: their imports (colour, torch) take
        # seconds of the workers' time and would hold up the ground truth's first frame.
        QTimer.singleShot(0, lambda: self._start_demo_methods(mosaic))

    def _start_demo_methods(self, mosaic: RawMosaic) -> None:
        if self.bridge.closed:
            return
        for algo in ("bilinear", "malvar", "menon"):
            self.add_classical(algo, mosaic)
        self.add_network("demosaicnet_bayer", mosaic)

    def _show_preview(self, item_id: int, preview: np.ndarray | None) -> None:
        item = self.session.items.get(item_id)
        if preview is None or item is None or item.status != "loading":
            return
        pane = self.panes[item_id]
        pane.set_display(preview, self._rect_for(item_id, preview, (preview.shape[1] * 2, preview.shape[0] * 2)))
        pane.set_title(f"{item.label} — preview, decoding…")
        if self.current_id is None or len(self.panes) == 1:
            pane.view.autoRange(padding=0)

    def _opened(self, item_id: int, result) -> None:
        source, image, label = result
        self.session.sources[image.source or self.session.items[item_id].source_path] = source
        self._set_models_source(source)
        self._set_ready(item_id, image, label)

    def _set_ready(self, item_id: int, image: Image, label: str) -> None:
        self.session.update_item(item_id, image=image, label=label, status="ready", message="")

    def _failed(self, item_id: int, err: BaseException) -> None:
        text = str(err) if isinstance(err, IspViewerError) else f"{type(err).__name__}: {err}"
        self.session.update_item(item_id, status="error", message=text)
        self.show_error(text)

    def show_error(self, text: str) -> None:
        """A non-modal dialog: the window keeps working while it is open."""
        self.last_error = text
        self.statusBar().showMessage(text, 15000)
        box = QMessageBox(QMessageBox.Icon.Warning, "ISP Viewer", text, QMessageBox.StandardButton.Ok, self)
        box.setModal(False)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.show()
        self.error_box = box

    def session_doc(self, base_dir: Path):
        from isp_viewer.export.provider import convention_dict
        from isp_viewer.export.session_doc import build_doc

        return build_doc(self.session, Path(base_dir), convention_dict(self.analysis.current_convention()),
                         figures=getattr(self, "figure_layouts", None))

    def keep_figure_layouts(self, doc) -> None:
        """The export dialog's edited layouts go into the session (and its autosave), so
        `isp-viewer export SESSION` redoes the figure the dialog shows."""
        self.figure_layouts = {**getattr(self, "figure_layouts", {}), **doc.figures}
        self._autosave()

    def save_session(self, path: str | Path) -> Path:
        """Save now, and from then on autosave (debounced) to <path>.autosave on every change."""
        from isp_viewer.export.session_file import Autosaver, save

        path = Path(path)
        saved = save(self.session_doc(path.parent), path)
        if getattr(self, "autosaver", None) is None or self.session_path != path:
            self.session_path = path
            self.autosaver = Autosaver(path, delay_s=1.0, max_wait_s=5.0,
                                       schedule=lambda delay, cb: QTimer.singleShot(int(delay * 1000), cb))
            for event in (self.session.item_changed, self.session.item_removed, self.session.reference_changed,
                          self.session.metrics_changed):
                event.connect(lambda *_: self._autosave())
        return saved

    def _autosave(self) -> None:
        if getattr(self, "autosaver", None) is not None:
            try:
                self.autosaver.touch(self.session_doc(self.session_path.parent))
            except IspViewerError as err:
                self.statusBar().showMessage(f"autosave failed: {err}", 8000)

    def save_session_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save session", "comparison.ispv", "ISP Viewer session (*.ispv)",
                                              options=DIALOG_OPTIONS)
        if path:
            try:
                self.save_session(path)
                self.statusBar().showMessage(f"saved {path}", 5000)
            except IspViewerError as err:
                self.show_error(str(err))

    def export_dialog_for(self, session_path: str | Path):
        """The figure dialog over this window's session (saved first, so the CLI can redo it)."""
        from isp_viewer.export.provider import SessionImageProvider
        from isp_viewer.export.session_file import load
        from isp_viewer.ui.export_dialog import ExportDialog

        path = self.save_session(session_path)
        doc = load(path)
        dialog = ExportDialog(doc, SessionImageProvider(doc, path.parent), "figure", self)
        dialog.documentChanged.connect(self.keep_figure_layouts)           # on each export
        dialog.finished.connect(lambda _r: self.keep_figure_layouts(dialog.document()))   # edited, then closed
        return dialog

    def export_figure_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the session the figure is made from", "comparison.ispv",
                                              "ISP Viewer session (*.ispv)", options=DIALOG_OPTIONS)
        if not path:
            return
        try:
            self.export_dialog_for(path).show()
        except IspViewerError as err:
            self.show_error(str(err))

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        self.open_files([p for p in paths if not self.is_checkpoint(p)])   # .ispv: reopens the session
        for path in filter(self.is_checkpoint, paths):
            self.use_checkpoint(path)

    @staticmethod
    def is_checkpoint(path: str) -> bool:
        from isp_viewer.models.loading import WEIGHT_SUFFIXES

        return path.lower().endswith(WEIGHT_SUFFIXES)

    def use_checkpoint(self, path: str) -> None:
        """A dropped checkpoint: recognise its network from keys and shapes (safely) and use it."""
        from isp_viewer.models.registry import detect_checkpoint

        def found(specs) -> None:
            if not specs:
                self.show_error(f"{Path(path).name}: its keys and shapes match none of the known networks")
                return
            for spec in specs:
                self.models.set_weights(spec.id, path)
            self.statusBar().showMessage(f"{Path(path).name}: {', '.join(s.name for s in specs)}", 10000)

        self.bridge.submit(lambda: detect_checkpoint(path), found, lambda err: self.show_error(str(err)))

    def _remember_recent(self, path: str) -> None:
        settings = QSettings("isp-viewer", "isp-viewer")
        recent = [p for p in (settings.value("recent", []) or []) if p != path]
        settings.setValue("recent", [str(path)] + recent[:9])
        self._fill_recent()

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in (QSettings("isp-viewer", "isp-viewer").value("recent", []) or [])[:10]:
            self.recent_menu.addAction(path).triggered.connect(lambda _c=False, p=path: self.open_files([p]))
