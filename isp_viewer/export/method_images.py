"""Worker-side functions the window runs off the GUI thread: open, decode and render one method's
image (Qt-free, so they live below the ui layer)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from isp_viewer.core.errors import InputError
from isp_viewer.core.image import Image
from isp_viewer.core.methods import DEFAULT_RENDER
from isp_viewer.io.develop import classical_demosaic
from isp_viewer.io.images import read_image, simulate_mosaic
from isp_viewer.io.open import open_any
from isp_viewer.io.raw import RAW_SUFFIXES, LibRawOptions, RawMosaic, quick_preview, render_libraw


def quick_preview_or_none(path: str) -> np.ndarray | None:
    """The embedded preview or a half-size decode of a RAW (None for other files or on failure)."""
    if Path(path).suffix.lower() not in RAW_SUFFIXES:
        return None
    try:
        return quick_preview(path)
    except InputError:
        return None  # the full decode reports the reason


def open_and_render(path: str) -> tuple[object, Image, str]:
    """(source for networks, image to show, pane label)."""
    source = open_any(path)
    name = Path(path).name
    if isinstance(source, RawMosaic):
        image = render_libraw(path, DEFAULT_RENDER)
        return source, image, f"{name} · {DEFAULT_RENDER.short_label}"
    kind = "linear RGB" if source.linear else "image"
    return source, source, f"{name} · {kind}"


def render_libraw_image(path: str, options: LibRawOptions) -> Image:
    return render_libraw(path, options)


def classical_image(source: RawMosaic, algorithm: str) -> Image:
    return classical_demosaic(source, algorithm)


def network_image(model_id: str, source, weights: str | None = None, reference: Image | None = None,
                  cancel=None) -> Image:
    """One network run through the engine (tiled, cached, cancellable; engine.run): the Methods
    menu, the demo and dataset mode. Waits on the calling worker thread, never on the GUI thread."""
    from isp_viewer.engine.run import run_through_engine
    from isp_viewer.engine.run_requests import network_label
    from isp_viewer.models.registry import get_spec

    image = run_through_engine(get_spec(model_id), weights, source, reference=reference, cancel=cancel)
    m = image.meta
    label = network_label(str(m.get("model_name", model_id)), str(m.get("weights_path") or m.get("weights") or ""),
                          str(m.get("device", "")), str(m.get("dtype", "")), float(m.get("seconds", 0.0)),
                          bool(m.get("from_cache")), m.get("options"))
    return image.with_data(image.data, label=label)


def demo_image_path() -> Path:
    """A natural photo shipped inside scikit-image (no download)."""
    import skimage.data

    return Path(skimage.data.__file__).parent / "astronaut.png"


def demo_source(cfa: str = "GRBG") -> tuple[Image, RawMosaic]:
    reference = read_image(demo_image_path())
    return reference, simulate_mosaic(reference, cfa)


# ---------------------------------------------------------------- dataset mode
DEFAULT_DATASET_RECIPE = (("classical", "bilinear"), ("classical", "malvar"), ("network", "demosaicnet_bayer"))
