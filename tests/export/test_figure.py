"""Figure composer and raster renderer: insets are exact nearest-neighbour enlargements."""

from __future__ import annotations

import io

import numpy as np
import pytest

from isp_viewer.core.errors import InputError
from isp_viewer.core.image import Image
from isp_viewer.core.region import Region
from isp_viewer.export.figure import FigureLayout, Panel, compose, inset_scale, to_uint8
from isp_viewer.export.figure_export import export_figure, figure_for
from isp_viewer.export.render import render_matplotlib, render_png, render_png_image
from tests.export.conftest import kodak_session

RED, BLUE = (0xE4, 0x1A, 0x1C), (0x37, 0x7E, 0xB8)


def read_png(path_or_bytes) -> np.ndarray:
    from PIL import Image as PILImage

    src = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    with PILImage.open(src) as im:
        assert im.mode == "RGB"
        return np.asarray(im).copy()


def nearest(crop: np.ndarray, k: int) -> np.ndarray:
    """Reference enlargement, written independently of the composer: out[y, x] = crop[y // k, x // k]."""
    ys = np.arange(crop.shape[0] * k) // k
    xs = np.arange(crop.shape[1] * k) // k
    return crop[ys][:, xs]


def test_inset_pixels_in_png_equal_nearest_neighbour_source_crop(tmp_path, kodak_images, kodak_provider):
    layout = FigureLayout(show_labels=False, show_captions=False, inset_size=100, spacing=6, line_width=2, dpi=200)
    doc = kodak_session({"plain": layout})
    out = export_figure(doc, "plain", tmp_path / "fig.png", kodak_provider)
    png = read_png(out)

    # Geometry by hand: margin 6; per cell a 260x200 view, then a 6 px gap, then the framed insets
    # (2 px border) stacked with 6 px gaps. eye 32x30 -> k = 100 // 32 = 3; feathers 40x30 -> k = 2.
    cell_w = 260 + 6 + (32 * 3 + 4)
    assert png.shape == (6 + max(200, (90 + 4) + 6 + (60 + 4)) + 6, 6 + 3 * cell_w + 2 * 6 + 6, 3)
    for p, method in enumerate(("gt", "blur", "jpeg")):
        x = 6 + p * (cell_w + 6)
        source = kodak_images[method].to_display()
        assert np.array_equal(png[6:206, x:x + 260][:2, :2], source[:2, :2])   # the view sits at (x, 6)
        insets = (("eye", 3, (x + 268, 8), RED), ("feathers", 2, (x + 268, 6 + 94 + 6 + 2), BLUE))
        for roi, k, (ix, iy), colour in insets:
            region = doc.roi(roi).region
            expected = nearest(region.crop(source), k)
            h, w = expected.shape[:2]
            assert np.array_equal(png[iy:iy + h, ix:ix + w], expected), f"{method}/{roi} inset differs"
            # The coloured border lies outside the inset pixels, 2 px on every side.
            assert (png[iy - 2:iy, ix:ix + w] == colour).all() and (png[iy + h:iy + h + 2, ix:ix + w] == colour).all()
            assert (png[iy:iy + h, ix - 2:ix] == colour).all() and (png[iy:iy + h, ix + w:ix + w + 2] == colour).all()
        # The ROI box on the full view surrounds the ROI without covering it.
        eye = doc.roi("eye").region
        assert tuple(png[6 + eye.y + 10, x + eye.x - 1]) == RED
        assert tuple(png[6 + eye.y - 2, x + eye.x + 5]) == RED
        assert np.array_equal(png[6 + eye.y, x + eye.x], source[eye.y, eye.x])

    # The PNG carries the layout's DPI.
    from PIL import Image as PILImage
    with PILImage.open(out) as im:
        assert round(im.info["dpi"][0]) == 200


@pytest.mark.parametrize("changes", [
    dict(inset_position="below"),
    dict(inset_position="overlay", overlay_corner="top-left", inset_size=60),
    dict(inset_position="overlay", overlay_corner="bottom-right", inset_size=60),
    dict(view_width=130, columns=2, error_map=True),
    dict(rows="rois", inset_size=128, view_width=173),
    dict(rows="rois", error_map=True, overview=False),
])
def test_every_layout_places_exact_insets(kodak_images, kodak_provider, changes):
    layout = FigureLayout(dpi=120, **changes)
    doc = kodak_session({"f": layout})
    fig = figure_for(doc, layout, kodak_provider)
    png = read_png(render_png(fig))
    assert png.shape == (fig.height, fig.width, 3)
    methods = ("gt", "blur", "jpeg")
    found = 0
    for item in fig.rasters:
        if item.role != "inset":
            continue
        region = doc.roi(item.roi).region
        k = inset_scale(region, layout.inset_size)
        assert item.scale == k
        expected = nearest(region.crop(kodak_images[methods[item.panel]].to_display()), k)
        assert np.array_equal(png[item.y:item.y + item.h, item.x:item.x + item.w], expected)
        found += 1
    assert found == 3 * 2
    assert all(r.x >= 0 and r.x + r.w <= fig.width and r.y >= 0 and r.y + r.h <= fig.height for r in fig.rasters)
    error_insets = [r for r in fig.rasters if r.role == "error_inset"]
    assert len(error_insets) == (6 if layout.error_map else 0)
    if layout.error_map:
        # The reference's own error is zero everywhere: the colour map's first colour.
        ref_error = fig.find_raster("error_inset", 0, "eye")
        assert (ref_error.pixels == ref_error.pixels[0, 0]).all()
        assert not (fig.find_raster("error_inset", 2, "eye").pixels == ref_error.pixels[0, 0]).all()


def test_insets_do_not_overlap_each_other(kodak_provider):
    for position in ("beside", "below", "overlay"):
        layout = FigureLayout(inset_position=position, inset_size=70, spacing=4)
        fig = figure_for(kodak_session({"f": layout}), layout, kodak_provider)
        boxes = [r.region.pad(layout.line_width) for r in fig.rasters if r.role == "inset"]
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                assert a.intersect(b).empty, position


def test_vector_drawing_has_the_raster_geometry(kodak_provider):
    """matplotlib (the SVG/PDF path) drawn through Agg puts rasters and boxes where PIL does."""
    layout = FigureLayout(dpi=100, inset_size=80, error_map=True)
    fig = figure_for(kodak_session({"f": layout}), layout, kodak_provider)
    pil = np.asarray(render_png_image(fig)).astype(np.int16)
    agg = read_png_rgba_as_rgb(render_matplotlib(fig, "png")).astype(np.int16)
    assert agg.shape == pil.shape
    for item in fig.rasters:
        assert np.array_equal(agg[item.y:item.y + item.h, item.x:item.x + item.w],
                              pil[item.y:item.y + item.h, item.x:item.x + item.w]), item.role
    for rect in fig.rects:   # outline bands coincide (anti-aliasing aside)
        band = (slice(rect.y, rect.y + rect.width), slice(rect.x + rect.width, rect.x + rect.w - rect.width))
        assert np.abs(agg[band] - pil[band]).mean() < 20
    assert np.abs(agg - pil).mean() < 2.0     # what differs is glyph rasterisation


def read_png_rgba_as_rgb(data: bytes) -> np.ndarray:
    from PIL import Image as PILImage

    with PILImage.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB")).copy()


def test_to_uint8_rounds_like_image_to_display():
    rng = np.random.default_rng(0)
    x = rng.uniform(-0.1, 1.1, (7, 5, 3)).astype(np.float32)
    assert np.array_equal(to_uint8(x), Image(x).to_display())
    assert np.array_equal(to_uint8(Image(x).to_display()), Image(x).to_display())
    grey = to_uint8(np.full((2, 2, 1), 0.5, np.float32))
    assert grey.shape == (2, 2, 3) and (grey == 128).all()


class Roi:
    def __init__(self, region: Region, colour: str = "") -> None:
        self.id, self.name, self.region, self.colour = "r", "r", region, colour


def test_compose_refuses_mismatched_grids_and_outside_rois():
    a = Panel("a", np.zeros((10, 12, 3), np.float32))
    b = Panel("b", np.zeros((10, 11, 3), np.float32))
    with pytest.raises(InputError, match="method 'b' is 11x10 but the figure's reference grid is 12x10"):
        compose([a, b], [], FigureLayout())
    with pytest.raises(InputError, match="lies outside the 12x10 image"):
        compose([a], [Roi(Region(20, 0, 4, 4))], FigureLayout())
    with pytest.raises(InputError, match="at least one method"):
        compose([], [], FigureLayout())
    # A ROI straddling the edge is clipped to the image, and gets a default colour.
    fig = compose([a], [Roi(Region(8, 6, 8, 8))], FigureLayout(inset_size=8, show_labels=False))
    inset = fig.find_raster("inset", 0, "r")
    assert (inset.w, inset.h, inset.scale) == (8, 8, 2)
    assert fig.rects[0].colour == "#e41a1c"


def test_layout_dict_round_trip_and_validation():
    layout = FigureLayout(methods=("b", "a"), rois=(), rows="rois", inset_size=64, font_size=7.5, error_map=True)
    assert FigureLayout.from_dict(layout.to_dict()) == layout
    assert FigureLayout.from_dict({}) == FigureLayout()
    assert FigureLayout.from_dict({"methods": None}).methods is None
    with pytest.raises(ValueError, match="unknown keys"):
        FigureLayout.from_dict({"colums": 3})
    with pytest.raises(ValueError, match="inset_position must be one of"):
        FigureLayout(inset_position="left")
    with pytest.raises(ValueError, match="columns must be at least 1"):
        FigureLayout(columns=0)


def test_captions_and_labels_are_placed_under_and_over_each_panel(kodak_provider):
    layout = FigureLayout(dpi=100)
    fig = figure_for(kodak_session({"f": layout}), layout, kodak_provider)
    views = [r for r in fig.rasters if r.role == "view"]
    captions = [t for t in fig.texts if t.role == "caption"]
    labels = [t for t in fig.texts if t.role == "label"]
    assert [t.text for t in labels] == ["Ground truth", "Gaussian blur", "JPEG q=10"]
    assert captions[0].text == "reference" and captions[1].text.startswith("PSNR ")
    for view, label, caption in zip(views, labels, captions):
        assert label.y < view.y and caption.y >= view.y + view.h
        assert label.x == view.x == caption.x and label.box_w == view.w
    footnote = [t for t in fig.texts if t.role == "footnote"]
    assert footnote[0].text == "PSNR/SSIM on RGB, no border cropped, data range 1.0, 8-bit quantized."
    assert footnote[0].y > max(c.y for c in captions)
