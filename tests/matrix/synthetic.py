"""Small deterministic image sets for matrix tests (no ../shared needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from isp_viewer.core.image import Image
from isp_viewer.io.images import write_image


def textured(seed: int, h: int = 96, w: int = 128) -> np.ndarray:
    """Smooth colour gradients, stripes and a few sharp edges: demosaicks differ clearly on it."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    f = rng.uniform(0.05, 0.4, size=3)
    rgb = np.stack([0.5 + 0.4 * np.sin(f[c] * xx + (c + 1) * 0.03 * yy + seed) for c in range(3)], axis=2)
    y0, x0 = rng.integers(0, h // 2), rng.integers(0, w // 2)
    rgb[y0:y0 + h // 3, x0:x0 + w // 3] = rng.uniform(0, 1, size=3)
    return np.clip(rgb, 0, 1).astype(np.float32)


def write_set(folder: Path, n: int = 3, h: int = 96, w: int = 128) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        write_image(folder / f"img{i}.png", Image(textured(i, h, w)), bits=8)
    return folder
