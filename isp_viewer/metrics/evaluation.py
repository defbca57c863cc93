"""Score a recipe of methods (classical demosaicks, networks) over a dataset of pairs.

Shared by `isp-viewer eval` and the window's dataset mode, so both produce the same table.
"""

from __future__ import annotations

from concurrent.futures import CancelledError
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from isp_viewer.core.errors import InputError
from isp_viewer.core.image import Image
from isp_viewer.io.develop import classical_demosaic
from isp_viewer.io.images import read_image, simulate_mosaic
from isp_viewer.io.open import open_any
from isp_viewer.metrics.convention import Convention
from isp_viewer.metrics.dataset import evaluate_pairs
from isp_viewer.metrics.table import MetricTable

Recipe = Sequence[tuple[str, str]]   # ("classical", "malvar") or ("network", "demosaicnet_bayer")


def load_pair(input_path: str | Path, ref_path: str | Path, simulate_cfa: str | None = None,
              downscale: int = 0) -> tuple[Image, object]:
    """(reference Image, source for the methods): optionally bicubic-downscaled (SR protocol)
    and/or sampled through a CFA (demosaicking protocol)."""
    reference = read_image(ref_path)
    source = open_any(input_path)
    if downscale > 1:
        if not isinstance(source, Image):
            raise InputError(f"{Path(input_path).name}: only RGB inputs can be downscaled")
        import cv2

        h, w = source.height // downscale, source.width // downscale
        small = cv2.resize(source.rgb()[: h * downscale, : w * downscale], (w, h), interpolation=cv2.INTER_CUBIC)
        source = source.with_data(np.clip(small, 0, 1))
    if simulate_cfa and isinstance(source, Image):
        source = simulate_mosaic(source, simulate_cfa)
    return reference, source


def run_step(step: tuple[str, str], source, reference: Image | None = None, loaded: dict | None = None,
             options: dict | None = None) -> Image:
    """One recipe step on one source; `loaded` caches networks across images; `options` (e.g.
    noise_sigma) go to the networks whose descriptor has them."""
    kind, name = step
    if kind == "classical":
        return classical_demosaic(source, name)
    from isp_viewer.models.adapters import run_network
    from isp_viewer.models.registry import get_spec, load_network

    cache = loaded if loaded is not None else {}
    if name not in cache:
        cache[name] = load_network(get_spec(name))
    spec = cache[name].spec
    return run_network(cache[name], source, reference=reference, options=options_for(spec, options))


def options_for(spec, options: dict | None) -> dict:
    return {k: v for k, v in (options or {}).items() if k in spec.options and v is not None}


def step_label(step: tuple[str, str], options: dict | None) -> str:
    """The table's name of a step: the method, with the options that apply to it."""
    kind, name = step
    if kind != "network" or not options:
        return name
    from isp_viewer.models.adapters import option_label
    from isp_viewer.models.registry import get_spec

    return option_label(name, options_for(get_spec(name), options))


def evaluate_recipe(pairs: Sequence[tuple[str, Path, Path]], recipe: Recipe, conv: Convention, *,
                    simulate_cfa: str | None = None, downscale: int = 0,
                    progress: Callable[[int, int], None] | None = None, cancel=None,
                    options: dict | None = None) -> MetricTable:
    """Every recipe method on every (stem, input, reference) pair, scored under `conv`."""
    loaded: dict = {}
    records = []
    for k, (stem, input_path, ref_path) in enumerate(pairs):
        if cancel is not None and cancel.is_set():
            raise CancelledError()
        reference, source = load_pair(input_path, ref_path, simulate_cfa, downscale)
        outputs = {step_label((kind, name), options): run_step((kind, name), source, reference, loaded, options).rgb()
                   for kind, name in recipe}
        records.append((stem, reference.rgb(), outputs))
        if progress is not None:
            progress(k + 1, len(pairs))
    return evaluate_pairs(records, conv)
