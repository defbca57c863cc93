"""PowerPoint text boxes: sized to their text, never wrapping a word, never overlapping; rendered
through LibreOffice (when installed) the caption row stays inside the slide and apart from the
next row."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from isp_viewer.export.figure_export import export_figure
from isp_viewer.export.slides import EMU_PER_PT, _width_emu
from tests.export.conftest import kodak_session

LONG = {"blur": "Gaussian blur σ = 2 (a long method name)", "jpeg": "JPEG quality 10"}


def _doc():
    from dataclasses import replace

    doc = kodak_session()
    return replace(doc, methods=tuple(replace(m, label=LONG.get(m.id, m.label)) for m in doc.methods))


def _boxes(path: Path):
    from pptx import Presentation

    for slide in Presentation(str(path)).slides:
        yield slide, [s for s in slide.shapes if s.has_text_frame and s.name != "ROI box"]


def test_text_boxes_fit_their_text_and_do_not_overlap(tmp_path, kodak_provider) -> None:
    out = export_figure(_doc(), "main", tmp_path / "deck.pptx", kodak_provider, title="parrot study")
    slides = list(_boxes(out))
    assert slides[0][1][0].text_frame.text == "parrot study"          # the session's name, not "figure"
    for _slide, boxes in slides:
        rects = []
        for box in boxes:
            frame = box.text_frame
            runs = [r for p in frame.paragraphs for r in p.runs]
            size_pt = runs[0].font.size.pt
            if box.name in ("label", "caption"):
                assert not frame.word_wrap                            # no word broken in two
                widest = max(_width_emu(p.text, size_pt) for p in frame.paragraphs)
                assert widest <= box.width <= widest * 1.05 + EMU_PER_PT   # as wide as its text
            rects.append((box.left, box.top, box.left + box.width, box.top + box.height, box.name))
        for i, a in enumerate(rects):
            for b in rects[i + 1:]:
                overlap_x = min(a[2], b[2]) - max(a[0], b[0])
                overlap_y = min(a[3], b[3]) - max(a[1], b[1])
                assert overlap_x <= 0 or overlap_y <= 0, f"{a[4]} overlaps {b[4]}"


@pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftoppm") is None,
                    reason="needs LibreOffice (soffice) and poppler (pdftoppm) to render the deck")
def test_deck_rendered_by_libreoffice_keeps_captions_apart(tmp_path, kodak_provider) -> None:
    from PIL import Image as PILImage

    out = export_figure(_doc(), "main", tmp_path / "deck.pptx", kodak_provider, title="parrot study")
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(out)],
                   check=True, capture_output=True, timeout=120)
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(tmp_path / "deck.pdf"), str(tmp_path / "slide")],
                   check=True, capture_output=True, timeout=60)
    pages = sorted(tmp_path.glob("slide-*.png"))
    assert len(pages) == 1 + len(kodak_session().rois)
    first = np.asarray(PILImage.open(pages[0]).convert("L"))
    # dark (text or picture) rows: the title, then content; a white gap must separate the
    # caption row from whatever follows, and nothing touches the slide's bottom edge
    dark_rows = (first < 128).any(axis=1)
    assert not dark_rows[-3:].any()
    assert dark_rows[: first.shape[0] // 8].any()   # the title is drawn
