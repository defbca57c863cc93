"""export_figure: SVG/PDF keep text as text, PPTX is an editable deck, outputs are deterministic."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zlib

import matplotlib
import numpy as np
import pytest
from PIL import Image as PILImage

from isp_viewer.core.errors import InputError
from isp_viewer.export.figure import FigureLayout
from isp_viewer.export.figure_export import convention_footnote, export_figure
from tests.export.conftest import kodak_session

FOOTNOTE = "PSNR/SSIM on RGB, no border cropped, data range 1.0, 8-bit quantized."
SVG_NS = "{http://www.w3.org/2000/svg}"


def svg_texts(data: bytes) -> list[str]:
    root = ET.fromstring(data)
    return ["".join(el.itertext()) for el in root.iter(f"{SVG_NS}text")]


def test_svg_holds_captions_and_labels_as_text(tmp_path, kodak_provider):
    out = export_figure(kodak_session(), "main", tmp_path / "fig.svg", kodak_provider)
    data = out.read_bytes()
    texts = svg_texts(data)
    for expected in ("Ground truth", "Gaussian blur", "JPEG q=10", "reference", "PSNR 25.46 dB", "PSNR 27.27 dB"):
        assert expected in texts
    assert any(FOOTNOTE.startswith(t) for t in texts if t.startswith("PSNR/SSIM"))
    root = ET.fromstring(data)
    # One embedded image per view and per inset (3 views + 3 x 2 insets), not one flattened picture.
    assert len(list(root.iter(f"{SVG_NS}image"))) == 9
    assert b"font-family" in data and b"DejaVu Sans" in data


def pdf_strings(data: bytes) -> list[str]:
    """Text shown by TJ/Tj operators in an uncompressed PDF written with Type 42 (UTF-16BE) fonts."""
    out = []
    for block in re.findall(rb"BT(.*?)ET", data, flags=re.S):
        pieces = []
        for literal in re.findall(rb"\((?:\\.|[^\\)])*\)", block, flags=re.S):
            pieces.append(_unescape_pdf_literal(literal[1:-1]))
        out.append(b"".join(pieces).decode("utf-16-be"))
    return out


def _unescape_pdf_literal(s: bytes) -> bytes:
    out, i = bytearray(), 0
    while i < len(s):
        if s[i:i + 1] == b"\\":
            octal = re.match(rb"[0-7]{1,3}", s[i + 1:i + 4])
            if octal:
                out.append(int(octal.group(), 8))
                i += 1 + len(octal.group())
                continue
            out += {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}.get(s[i + 1:i + 2], s[i + 1:i + 2])
            i += 2
        else:
            out.append(s[i])
            i += 1
    return bytes(out)


def test_pdf_holds_captions_as_text_with_embedded_truetype(tmp_path, kodak_provider):
    with matplotlib.rc_context({"pdf.compression": 0}):
        out = export_figure(kodak_session(), "main", tmp_path / "fig.pdf", kodak_provider)
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    strings = pdf_strings(data)
    for expected in ("Ground truth", "JPEG q=10", "reference", "PSNR 25.46 dB", "PSNR 27.27 dB"):
        assert expected in strings
    assert " ".join(s for s in strings if s[:1].islower() or s.startswith("PSNR/")).endswith("8-bit quantized.")
    assert b"/FontFile2" in data          # Type 42: the TrueType font is embedded, text stays selectable
    assert b"/CreationDate" not in data


def test_pdf_is_compressed_by_default(tmp_path, kodak_provider):
    data = export_figure(kodak_session(), "main", tmp_path / "fig.pdf", kodak_provider).read_bytes()
    assert b"/FlateDecode" in data
    stream = re.search(rb"stream\r?\n(.*?)endstream", data, flags=re.S).group(1)
    zlib.decompress(stream)  # a real deflate stream


def test_pptx_has_a_slide_per_comparison_with_pictures_and_editable_text(tmp_path, kodak_images, kodak_provider):
    from pptx import Presentation
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    doc = kodak_session()
    out = export_figure(doc, "main", tmp_path / "deck.pptx", kodak_provider)
    prs = Presentation(str(out))
    assert prs.slide_width * 9 == prs.slide_height * 16
    slides = list(prs.slides)
    assert len(slides) == 1 + len(doc.rois)

    def texts(slide) -> list[str]:
        return [s.text_frame.text for s in slide.shapes if s.has_text_frame and s.text_frame.text]

    def pictures(slide) -> list:
        return [s for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE]

    overview = slides[0]
    assert len(pictures(overview)) == 3 + 3 * 2
    for expected in ("main", "Ground truth", "Gaussian blur", "JPEG q=10", "reference", "PSNR 25.46 dB", FOOTNOTE):
        assert expected in texts(overview)
    for slide, roi in zip(slides[1:], doc.rois):
        assert f"ROI: {roi.name}" in texts(slide)
        assert len(pictures(slide)) == 1 + 3           # overview with boxes + one crop per method
        assert {"PSNR 25.46 dB", "PSNR 27.27 dB", FOOTNOTE} <= set(texts(slide))
    # Every picture stays inside the slide.
    for slide in slides:
        for pic in pictures(slide):
            assert pic.left >= 0 and pic.left + pic.width <= prs.slide_width
            assert pic.top >= 0 and pic.top + pic.height <= prs.slide_height
    # An inset picture holds the exact nearest-neighbour crop.
    inset = next(p for p in pictures(slides[1]) if p.name == "inset 2 eye")
    with PILImage.open(io.BytesIO(inset.image.blob)) as im:
        pixels = np.asarray(im.convert("RGB"))
    region = doc.roi("eye").region
    k = pixels.shape[0] // region.h
    crop = region.crop(kodak_images["jpeg"].to_display())
    assert k >= 2 and np.array_equal(pixels, np.repeat(np.repeat(crop, k, axis=0), k, axis=1))


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf", "pptx"])
def test_export_is_byte_identical_across_calls(tmp_path, kodak_provider, fmt):
    doc = kodak_session({"f": FigureLayout(dpi=96, inset_size=64, error_map=True)})
    first = export_figure(doc, "f", tmp_path / f"a.{fmt}", kodak_provider).read_bytes()
    second = export_figure(doc, "f", tmp_path / f"b.{fmt}", kodak_provider).read_bytes()
    assert len(first) > 1000 and first == second


def test_export_errors_are_one_line_and_actionable(tmp_path, kodak_provider):
    doc = kodak_session()
    with pytest.raises(InputError, match="the session has no figure 'nope' \\(it has: main\\)"):
        export_figure(doc, "nope", tmp_path / "x.png", kodak_provider)
    with pytest.raises(InputError, match="use one of png, svg, pdf, pptx"):
        export_figure(doc, "main", tmp_path / "x.jpg", kodak_provider)
    bad = doc.with_figure("bad", FigureLayout(methods=("gt", "sota")))
    with pytest.raises(InputError, match="no method 'sota'"):
        export_figure(bad, "bad", tmp_path / "x.png", kodak_provider)
    assert not list(tmp_path.iterdir())


def test_layout_selects_and_orders_methods_and_rois(tmp_path, kodak_provider):
    from isp_viewer.export.figure_export import figure_for

    layout = FigureLayout(methods=("jpeg", "gt"), rois=("feathers",), show_captions=False)
    fig = figure_for(kodak_session({"f": layout}), layout, kodak_provider)
    assert [t.text for t in fig.texts if t.role == "label"] == ["JPEG q=10", "Ground truth"]
    assert {r.roi for r in fig.rasters if r.role == "inset"} == {"feathers"}
    assert not [t for t in fig.texts if t.role in ("caption", "footnote")]
    none = FigureLayout(rois=())
    assert not [r for r in figure_for(kodak_session(), none, kodak_provider).rasters if r.role == "inset"]


def test_convention_footnote_spells_out_the_convention():
    assert convention_footnote("PSNR/SSIM", {"channel": "Y", "crop_border": 4, "data_range": 255, "quantize": False}) \
        == "PSNR/SSIM on the Y channel, 4 px border cropped, data range 255, not quantized."
    assert convention_footnote("PSNR", {}) == ""


def test_error_row_colours_the_absolute_error_with_the_session_colour_map(kodak_images, kodak_provider):
    from isp_viewer.export.figure_export import figure_for

    layout = FigureLayout(error_map=True, error_reference="gt", error_range=0.2, rois=())
    fig = figure_for(kodak_session({"f": layout}), layout, kodak_provider)
    error_view = fig.find_raster("error_view", 1)           # Gaussian blur against the ground truth
    err = np.abs(kodak_images["blur"].data - kodak_images["gt"].data).mean(axis=2)
    lut = matplotlib.colormaps["inferno"](np.linspace(0, 1, 256))[:, :3]
    expected = lut[np.round(np.clip(err / 0.2, 0, 1) * 255).astype(int)] * 255
    assert error_view.pixels.shape == (200, 260, 3)
    assert np.abs(error_view.pixels - expected).max() <= 1.0
    labels = [t.text for t in fig.texts if t.role == "label"]
    assert labels[3:] == ["|Ground truth − Ground truth|", "|Gaussian blur − Ground truth|",
                          "|JPEG q=10 − Ground truth|"]
