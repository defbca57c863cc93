"""NVIDIA's FLIP perceptual difference (Andersson et al. 2020) through the `flip-evaluator` package.

LDR-FLIP compares two display-referred sRGB images in [0, 1] as seen at `ppd` pixels per
degree of visual angle. By default FLIP's own viewing conditions are used (a 0.7 m wide,
3840 px monitor seen from 0.7 m: about 67.02 ppd), as in published FLIP numbers. The map is
HxW in [0, 1], 0 meaning no perceived difference; its mean is the number papers report.
"""

from __future__ import annotations

import numpy as np

from isp_viewer.core.errors import InputError
from isp_viewer.core.image import Image
from isp_viewer.core.region import Region
from isp_viewer.metrics.convention import ArrayLike, as_unit_array, crop_region


def flip(test: ArrayLike, reference: ArrayLike, region: Region | None = None,
         ppd: float | None = None) -> tuple[float, np.ndarray]:
    """(mean FLIP error, HxW float32 FLIP map) of `test` against `reference`.

    Inputs follow the metrics input convention and must share one grid; grey images are
    repeated to RGB and values are clipped to [0, 1] (LDR-FLIP's domain). Scene-linear
    `Image`s are passed as linear, everything else as sRGB-encoded.
    """
    import flip_evaluator  # loaded on first use: importing the metrics package stays cheap

    if ppd is not None and not ppd > 0:
        raise InputError(f"FLIP needs a positive pixels-per-degree value, got {ppd}")
    x = _rgb(crop_region(as_unit_array(test, "test image"), region, "test image"))
    y = _rgb(crop_region(as_unit_array(reference, "reference image"), region, "reference image"))
    if x.shape != y.shape:
        raise InputError(f"FLIP needs images of one size, got {x.shape[1]}x{x.shape[0]} and "
                         f"{y.shape[1]}x{y.shape[0]}; map the test image onto the reference grid first")
    srgb = not (isinstance(reference, Image) and reference.linear)
    parameters = {} if ppd is None else {"ppd": float(ppd)}
    # flip_evaluator calls sys.exit on bad arguments, so everything is checked above.
    error_map, mean, _ = flip_evaluator.evaluate(y, x, "LDR", inputsRGB=srgb, applyMagma=False,
                                                 computeMeanError=True, parameters=parameters)
    return float(mean), np.ascontiguousarray(error_map[:, :, 0], dtype=np.float32)


def _rgb(x: np.ndarray) -> np.ndarray:
    if x.shape[2] == 1:
        x = np.repeat(x, 3, axis=2)
    return np.ascontiguousarray(np.clip(x, 0.0, 1.0), dtype=np.float32)
