"""The data-set protocol's pieces below the matrix: loading a pair as the methods see it, and
the names and options of recipe steps.

Evaluating a recipe over a data set is `isp_viewer.matrix` (`evaluate_recipe`, `run_matrix`):
one run path, through the engine, for `isp-viewer eval` and the window's dataset mode.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from isp_viewer.core.errors import InputError
from isp_viewer.core.image import Image
from isp_viewer.io.images import read_image, simulate_mosaic
from isp_viewer.io.open import open_any


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


def options_for(spec, options: dict | None) -> dict:
    """The options (e.g. noise_sigma) that `spec`'s network takes, without unset ones."""
    return {k: v for k, v in (options or {}).items() if k in spec.options and v is not None}


def step_label(step: tuple[str, str], options: dict | None) -> str:
    """The table's name of a step: the method, with the options that apply to it."""
    kind, name = step
    if kind != "network" or not options:
        return name
    from isp_viewer.models.adapters import option_label
    from isp_viewer.models.registry import get_spec

    return option_label(name, options_for(get_spec(name), options))
