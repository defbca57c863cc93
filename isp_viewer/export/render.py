"""Renderers for a composed `Figure`: PNG (PIL), SVG and PDF (matplotlib, vector text).

All three draw the same model at the same geometry. PNG pastes rasters at integer pixel
positions with no resampling, so inset pixels are exact. SVG/PDF embed every raster unresampled
(interpolation 'none') at its pixel rectangle, with 1 px = 72/dpi pt; text stays text
(svg.fonttype 'none', pdf.fonttype 42). Output bytes are deterministic: no dates, fixed SVG ids.
"""

from __future__ import annotations

import io

import numpy as np

from isp_viewer.export.figure import Figure, TextItem, font_px, line_height, pil_font

VECTOR_FORMATS = ("svg", "pdf")
SVG_HASH_SALT = "isp-viewer"


def render_png_image(fig: Figure):
    """The figure as a PIL RGB image of fig.width x fig.height pixels."""
    from PIL import Image as PILImage
    from PIL import ImageDraw

    canvas = PILImage.new("RGB", (fig.width, fig.height), fig.background)
    for item in fig.rasters:
        canvas.paste(PILImage.fromarray(np.ascontiguousarray(item.pixels), "RGB"), (item.x, item.y))
    draw = ImageDraw.Draw(canvas)
    for rect in fig.rects:
        if rect.width > 0 and rect.w > 0 and rect.h > 0:
            draw.rectangle((rect.x, rect.y, rect.x + rect.w - 1, rect.y + rect.h - 1), outline=rect.colour,
                           width=rect.width)
    for text in fig.texts:
        _draw_text_pil(draw, text, fig.dpi)
    return canvas


def _text_lines(text: TextItem, dpi: int):
    """(line, anchor x, baseline y) per line; the same positions for every renderer."""
    ascent, _ = pil_font(font_px(text.size_pt, dpi)).getmetrics()
    lh = line_height(text.size_pt, dpi)
    x = text.x + text.box_w / 2 if text.align == "center" else text.x
    for i, line in enumerate(text.text.split("\n")):
        yield line, x, text.y + ascent + i * lh


def _draw_text_pil(draw, text: TextItem, dpi: int) -> None:
    font = pil_font(font_px(text.size_pt, dpi))
    anchor = "ms" if text.align == "center" else "ls"
    for line, x, baseline in _text_lines(text, dpi):
        draw.text((x, baseline), line, fill=text.colour, font=font, anchor=anchor)


def render_png(fig: Figure) -> bytes:
    """PNG bytes with the figure's DPI in its pHYs chunk."""
    buf = io.BytesIO()
    render_png_image(fig).save(buf, format="PNG", dpi=(fig.dpi, fig.dpi))
    return buf.getvalue()


def vector_rc() -> dict:
    """matplotlib settings for editable, reproducible vector output."""
    return {
        "svg.fonttype": "none",
        "pdf.fonttype": 42,
        "svg.hashsalt": SVG_HASH_SALT,
        "image.composite_image": False,   # one embedded image per raster, movable in an editor
        "font.family": "sans-serif",
        "font.sans-serif": ["DejaVu Sans"],
    }


def render_vector(fig: Figure, fmt: str) -> bytes:
    """SVG or PDF bytes. Honours an enclosing rc_context for settings not in `vector_rc`
    (tests switch off pdf.compression to read the content stream)."""
    if fmt not in VECTOR_FORMATS:
        raise ValueError(f"vector format must be one of {VECTOR_FORMATS}, got {fmt!r}")
    return render_matplotlib(fig, fmt)


def render_matplotlib(fig: Figure, fmt: str) -> bytes:
    """The figure drawn by matplotlib in any format it writes. SVG/PDF are the products; a PNG
    through Agg lets tests check that the vector drawing has the raster renderer's geometry."""
    import matplotlib
    from matplotlib.figure import Figure as MplFigure
    from matplotlib.patches import Rectangle

    px_to_pt = 72.0 / fig.dpi
    with matplotlib.rc_context(vector_rc()):
        mfig = MplFigure(figsize=(fig.width / fig.dpi, fig.height / fig.dpi), dpi=fig.dpi, facecolor=fig.background)
        ax = mfig.add_axes((0, 0, 1, 1))
        ax.set_axis_off()
        for item in fig.rasters:
            ax.imshow(item.pixels, extent=(item.x, item.x + item.w, item.y + item.h, item.y), origin="upper",
                      interpolation="none", aspect="auto", resample=False)
        for rect in fig.rects:
            if rect.width > 0 and rect.w > 0 and rect.h > 0:
                # A stroke is centred on its path: move the path half a line inwards.
                half = rect.width / 2
                ax.add_patch(Rectangle((rect.x + half, rect.y + half), rect.w - rect.width, rect.h - rect.width,
                                       fill=False, edgecolor=rect.colour, linewidth=rect.width * px_to_pt,
                                       joinstyle="miter", clip_on=False))
        for text in fig.texts:
            ha = "center" if text.align == "center" else "left"
            for line, x, baseline in _text_lines(text, fig.dpi):
                ax.text(x, baseline, line, fontsize=text.size_pt, ha=ha, va="baseline", color=text.colour,
                        clip_on=False)
        ax.set_xlim(0, fig.width)
        ax.set_ylim(fig.height, 0)
        metadata = {"pdf": {"CreationDate": None}, "svg": {"Date": None}}.get(fmt)
        buf = io.BytesIO()
        mfig.savefig(buf, format=fmt, dpi=fig.dpi, metadata=metadata, facecolor=fig.background)
    return buf.getvalue()


__all__ = ["render_matplotlib", "render_png", "render_png_image", "render_vector", "vector_rc"]
