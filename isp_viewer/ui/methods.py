"""Worker-side functions the window runs off the GUI thread (no widgets here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from isp_viewer.core.image import Image
from isp_viewer.core.errors import InputError
from isp_viewer.io.develop import classical_demosaic
from isp_viewer.io.images import read_image, simulate_mosaic
from isp_viewer.io.open import open_any
from isp_viewer.io.raw import RAW_SUFFIXES, LibRawOptions, RawMosaic, quick_preview, render_libraw

DEFAULT_RENDER = LibRawOptions("AHD", "camera", "srgb", 16)


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
        return source, image, f"{name} · {DEFAULT_RENDER.label}"
    kind = "linear RGB" if source.linear else "image"
    return source, source, f"{name} · {kind}"


def render_libraw_image(path: str, options: LibRawOptions) -> Image:
    return render_libraw(path, options)


def classical_image(source: RawMosaic, algorithm: str) -> Image:
    return classical_demosaic(source, algorithm)


def network_image(model_id: str, source, weights: str | None = None, reference: Image | None = None) -> Image:
    """Full-frame run of one network (the engine panel runs tiled jobs with progress)."""
    import time

    from isp_viewer.models.adapters import finish_output, reference_option, run_full_frame
    from isp_viewer.models.registry import get_spec, load_network

    spec = get_spec(model_id)
    loaded = load_network(spec, weights)
    t0 = time.perf_counter()
    out = run_full_frame(spec, loaded.net, source, **loaded.infer_options(),
                         **reference_option(spec, reference, source))
    seconds = time.perf_counter() - t0
    label = f"{spec.name} · {Path(loaded.weights_path).name} · cpu fp32 · {seconds:.1f} s"
    return finish_output(spec, out, source, label, {"method": "network", "model": model_id,
                                                    "weights_path": loaded.weights_path,
                                                    "weights_sha256": loaded.weights_sha256, "seconds": seconds})


def demo_image_path() -> Path:
    """A natural photo shipped inside scikit-image (no download)."""
    import skimage.data

    return Path(skimage.data.__file__).parent / "astronaut.png"


def demo_source(cfa: str = "GRBG") -> tuple[Image, RawMosaic]:
    reference = read_image(demo_image_path())
    return reference, simulate_mosaic(reference, cfa)


# ---------------------------------------------------------------- dataset mode
DEFAULT_DATASET_RECIPE = (("classical", "bilinear"), ("classical", "malvar"), ("network", "demosaicnet_bayer"))


def dataset_pair(input_path: str, ref_path: str, simulate_cfa: str | None):
    """(reference Image, source for the methods) for one dataset entry."""
    reference = read_image(ref_path)
    source = open_any(input_path)
    if simulate_cfa and isinstance(source, Image):
        source = simulate_mosaic(source, simulate_cfa)
    return reference, source


def recipe_image(step: tuple[str, str], source) -> Image:
    kind, name = step
    if kind == "classical":
        return classical_demosaic(source, name)
    return network_image(name, source)


def dataset_table(pairs, recipe, simulate_cfa, conv, progress=None, cancel=None):
    """Every recipe method on every pair, scored against the references: a MetricTable."""
    from isp_viewer.metrics import evaluate_pairs

    records = []
    for k, (stem, input_path, ref_path) in enumerate(pairs):
        if cancel is not None and cancel.is_set():
            from concurrent.futures import CancelledError

            raise CancelledError()
        reference, source = dataset_pair(str(input_path), str(ref_path), simulate_cfa)
        outputs = {f"{name}": recipe_image((kind, name), source).rgb() for kind, name in recipe}
        records.append((stem, reference.rgb(), outputs))
        if progress is not None:
            progress(k + 1, len(pairs))
    return evaluate_pairs(records, conv)
