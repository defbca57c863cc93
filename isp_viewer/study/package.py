"""Moving a study between machines.

`.json`: the design only (crops, methods, settings); the other machine needs the same images.
`.ispstudy`: a zip holding `study.json` and every stimulus as an 8-bit sRGB PNG under
`stimuli/<crop id>/<method id>.png`, quantised exactly as the runner shows it, so the study runs
anywhere without the source images or the networks. `PackagedStimuli` is an image provider that
serves those PNGs.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image as PILImage

from isp_viewer.core.errors import InputError
from isp_viewer.core.region import Region
from isp_viewer.study.design import ImageProvider, StudyDesign, stimulus_pixels, to_display_uint8

PACKAGE_SUFFIX = ".ispstudy"
_DESIGN_NAME = "study.json"


def _stimulus_name(crop_id: str, method_id: str) -> str:
    # Method ids come from the app (e.g. 'pynet'); keep the archive name filesystem-safe anyway.
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in method_id)
    return f"stimuli/{crop_id}/{safe}.png"


def _needed_stimuli(design: StudyDesign) -> list[tuple[str, str]]:
    pairs = {(c.id, m) for c in design.crops for m in design.conditions}
    if design.reference is not None:
        pairs |= {(c.id, design.reference.id) for c in design.crops}
    for t in design.training:
        pairs |= {(t.crop_id, m) for m in (t.method_id, t.method_b) if m is not None}
        if design.shows_reference:
            pairs.add((t.crop_id, design.reference.id))  # type: ignore[union-attr]
    return sorted(pairs)


def save_study(path: str | Path, design: StudyDesign, provider: ImageProvider | None = None) -> Path:
    """Write `design` to `path`: plain JSON, or a self-contained `.ispstudy` zip (needs `provider`)."""
    path = Path(path)
    if path.suffix.lower() != PACKAGE_SUFFIX:
        path.write_text(design.to_json(), encoding="utf-8")
        return path
    if provider is None:
        raise InputError("A .ispstudy package embeds the stimuli: an image provider is needed to write it")
    tmp = path.with_name(path.name + ".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr(_DESIGN_NAME, design.to_json())
        for crop_id, method_id in _needed_stimuli(design):
            buf = io.BytesIO()
            PILImage.fromarray(to_display_uint8(stimulus_pixels(design, provider, crop_id, method_id))).save(
                buf, format="PNG")
            # PNG is already compressed: store it as is.
            z.writestr(zipfile.ZipInfo(_stimulus_name(crop_id, method_id)), buf.getvalue(),
                       compress_type=zipfile.ZIP_STORED)
    tmp.replace(path)  # never leave a half-written package under the real name
    return path


def load_study(path: str | Path) -> tuple[StudyDesign, ImageProvider | None]:
    """Read a `.json` study (provider None: use the app's images) or a `.ispstudy` package
    (provider serves the embedded stimuli)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"Study file not found: {path}")
    if path.suffix.lower() != PACKAGE_SUFFIX:
        return StudyDesign.from_json(path.read_text(encoding="utf-8")), None
    try:
        with zipfile.ZipFile(path) as z:
            design = StudyDesign.from_json(z.read(_DESIGN_NAME).decode("utf-8"))
            images = {}
            for crop_id, method_id in _needed_stimuli(design):
                with z.open(_stimulus_name(crop_id, method_id)) as f:
                    images[(crop_id, method_id)] = np.asarray(PILImage.open(f).convert("RGB"))
    except (zipfile.BadZipFile, KeyError) as e:
        raise InputError(f"{path.name} is not a complete ISP Viewer study package ({e})") from e
    return design, PackagedStimuli(design, images)


class PackagedStimuli:
    """Image provider over decoded package PNGs: (method_id, region) -> HxWx3 float32 in [0, 1]."""

    def __init__(self, design: StudyDesign, images: dict[tuple[str, str], np.ndarray]) -> None:
        self._by_region = {(c.region, m): images[(c.id, m)] for c in design.all_crops for (cid, m) in images
                           if cid == c.id}

    def __call__(self, method_id: str, region: Region) -> np.ndarray:
        try:
            img = self._by_region[(region, method_id)]
        except KeyError:
            raise InputError(f"The study package has no stimulus for {method_id!r} at {region.as_tuple()}") from None
        return img.astype(np.float32) / np.float32(255.0)
