"""Export dialog: controls <-> layout, off-thread preview equal to the PNG renderer, Save = export_figure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from isp_viewer.core.errors import InputError
from isp_viewer.export.figure import FigureLayout
from isp_viewer.export.figure_export import StaticImageProvider, export_figure, figure_for
from isp_viewer.export.figure_preview import preview_pixels
from isp_viewer.ui.export_dialog import ExportDialog
from tests.export.conftest import kodak_methods, kodak_session, psnr_caption

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def provider(data: Path) -> StaticImageProvider:
    images = kodak_methods(data)
    return StaticImageProvider(images, {k: psnr_caption(v, images["gt"]) for k, v in images.items()})


@pytest.fixture
def dialog(qtbot, provider):
    layout = FigureLayout(methods=("jpeg", "gt"), rois=("feathers",), inset_size=96, inset_position="overlay",
                          overlay_corner="top-right", spacing=5, font_size=7.5, columns=2, error_map=True, dpi=120,
                          caption_metrics="PSNR")
    dlg = ExportDialog(kodak_session({"paper": layout}), provider, "paper")
    qtbot.addWidget(dlg)
    yield dlg
    dlg.done(0)


def qimage_pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w, stride = image.height(), image.width(), image.bytesPerLine()
    rows = np.frombuffer(image.constBits(), np.uint8, count=h * stride).reshape(h, stride)
    return rows[:, :3 * w].reshape(h, w, 3).copy()  # copy while `image` still owns the buffer


def test_controls_show_the_session_layout(dialog):
    assert dialog.figure_name() == "paper"
    assert dialog.figure_layout() == dialog.document().figures["paper"] == kodak_session({"paper": FigureLayout(
        methods=("jpeg", "gt"), rois=("feathers",), inset_size=96, inset_position="overlay", overlay_corner="top-right",
        spacing=5, font_size=7.5, columns=2, error_map=True, dpi=120, caption_metrics="PSNR")}).figures["paper"]
    # Unchosen methods and ROIs are listed after the chosen ones, unchecked.
    items = [dialog.methods_list.item(i) for i in range(dialog.methods_list.count())]
    assert [it.text() for it in items] == ["JPEG q=10", "Ground truth", "Gaussian blur"]
    assert items[2].checkState() == Qt.CheckState.Unchecked


def test_editing_controls_changes_the_layout(dialog):
    blur = dialog.methods_list.item(2)
    blur.setCheckState(Qt.CheckState.Checked)
    dialog.methods_list.setCurrentRow(2)
    dialog._move_method(-1)                       # the Up button
    dialog.rois_list.item(1).setCheckState(Qt.CheckState.Checked)
    dialog.inset_size.setValue(64)
    dialog.inset_place.setCurrentIndex(1)         # below
    dialog.show_captions.setChecked(False)
    dialog.error_map.setChecked(False)
    dialog.dpi.setValue(300)
    layout = dialog.figure_layout()
    assert layout.methods == ("jpeg", "blur", "gt")
    assert layout.rois == ("feathers", "eye")
    assert (layout.inset_size, layout.inset_position, layout.show_captions, layout.error_map, layout.dpi) == \
        (64, "below", False, False, 300)
    assert dialog._preview_timer.isActive()       # edits schedule a preview


def test_preview_is_the_png_renderer_output_made_off_thread(qtbot, dialog, provider):
    with qtbot.waitSignal(dialog.previewReady, timeout=20000,
                          check_params_cb=lambda g: g == dialog._generation) as blocker:
        dialog.refresh_preview()
        dialog.inset_size.setValue(120)
        dialog.refresh_preview()                  # supersedes the first: only the latest is shown
    assert blocker.args == [dialog._generation] and dialog._shown_generation == dialog._generation
    shown = qimage_pixels(dialog.preview_pixmap().toImage())
    size = dialog.preview.size()
    expected = preview_pixels(dialog._doc, dialog.figure_layout(), provider,
                               max(size.width(), 720), max(size.height(), 420))
    assert shown.shape == expected.shape and np.array_equal(shown, expected)
    fig = figure_for(dialog._doc, dialog.figure_layout(), provider)
    assert abs(shown.shape[1] / shown.shape[0] - fig.width / fig.height) < 0.02


def test_preview_shows_a_readable_error(qtbot, dialog):
    class Broken(StaticImageProvider):
        def image(self, method_id):
            raise InputError(f"method '{method_id}' has not run yet")

    broken = ExportDialog(kodak_session(), Broken({}), "main")
    qtbot.addWidget(broken)
    with qtbot.waitSignal(broken.previewReady, timeout=20000):
        broken.refresh_preview()
    assert broken.preview.text() == "method 'gt' has not run yet"
    broken.done(0)


def test_save_writes_what_the_cli_writes(qtbot, dialog, provider, tmp_path):
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("svg"))
    with qtbot.waitSignal(dialog.documentChanged) as changed:
        out = dialog.save_to(tmp_path / "figure")        # the suffix comes from the format
    assert out == tmp_path / "figure.svg"
    doc = changed.args[0]
    assert doc.figures["paper"] == dialog.figure_layout()
    cli = export_figure(doc, "paper", tmp_path / "cli.svg", provider)
    assert out.read_bytes() == cli.read_bytes()
