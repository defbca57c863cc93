"""A small comparison built from a real Kodak image: three synthetic "methods", two ROIs."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from isp_viewer.core.image import Image
from isp_viewer.core.region import Region
from isp_viewer.export.figure import FigureLayout
from isp_viewer.export.figure_export import StaticImageProvider
from isp_viewer.export.session_file import (
    ClassicalOptions,
    DisplaySettings,
    InputOptions,
    InputRef,
    MethodRef,
    RoiRef,
    SessionDoc,
)

KODAK = "paired/kodak24/kodim23.png"
CROP = Region(200, 80, 260, 200)      # the red parrot's head, 260x200: small enough for fast tests


def kodak_methods(data: Path) -> dict[str, Image]:
    """Ground truth, a Gaussian blur and a strong JPEG round trip of one Kodak crop (sRGB)."""
    from PIL import Image as PILImage
    from PIL import ImageFilter

    full = PILImage.open(data / KODAK).convert("RGB")
    gt = full.crop((CROP.x, CROP.y, CROP.x1, CROP.y1))
    blurred = gt.filter(ImageFilter.GaussianBlur(2))
    buf = io.BytesIO()
    gt.save(buf, format="JPEG", quality=10)
    jpeg = PILImage.open(io.BytesIO(buf.getvalue())).convert("RGB")
    return {name: Image(np.asarray(img, dtype=np.float32) / 255.0, label=name)
            for name, img in (("gt", gt), ("blur", blurred), ("jpeg", jpeg))}


def psnr_caption(img: Image, ref: Image) -> str:
    mse = float(np.mean((img.data.astype(np.float64) - ref.data) ** 2))
    return "reference" if mse == 0 else f"PSNR {10 * np.log10(1 / mse):.2f} dB"


def kodak_session(figures: dict[str, FigureLayout] | None = None) -> SessionDoc:
    return SessionDoc(
        inputs=(InputRef("kodim23", "kodim23.png", "", "image"),),
        reference="kodim23",
        methods=(MethodRef("gt", "Ground truth", InputOptions("kodim23")),
                 MethodRef("blur", "Gaussian blur", ClassicalOptions("gaussian-blur", "RGGB")),
                 MethodRef("jpeg", "JPEG q=10", ClassicalOptions("jpeg-q10", "RGGB"))),
        rois=(RoiRef("eye", "Eye", Region(160, 70, 32, 30), "#e41a1c"),
              RoiRef("feathers", "Feathers", Region(108, 80, 40, 30), "#377eb8")),
        display=DisplaySettings(),
        metric_convention={"channel": "RGB", "crop_border": 0, "data_range": 1.0, "quantize": True},
        figures=figures if figures is not None else {"main": FigureLayout(dpi=150, inset_size=90)},
    )


@pytest.fixture(scope="module")
def kodak_images(data: Path) -> dict[str, Image]:
    return kodak_methods(data)


@pytest.fixture(scope="module")
def kodak_provider(kodak_images: dict[str, Image]) -> StaticImageProvider:
    captions = {k: psnr_caption(v, kodak_images["gt"]) for k, v in kodak_images.items()}
    return StaticImageProvider(kodak_images, captions)
