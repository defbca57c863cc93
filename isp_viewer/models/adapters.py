"""From what the user opened (a RawMosaic or an Image) to a network's input, and back.

Each network's own `infer` handles its packing, phase and padding; this module only decides
which array it receives (a RAW mosaic in the descriptor's `input_convention`: white balance or
none, black level subtracted or kept; sRGB; linear RGB) and how its output becomes an `Image` on
the reference grid (camera-RGB outputs are brought back to black-subtracted, white-balanced
values and developed like LibRaw's).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from isp_viewer.core.errors import ModelError
from isp_viewer.core.image import Image, linear_to_srgb, srgb_to_linear
from isp_viewer.io.develop import colour_demosaicing, develop, is_display_referred, network_input
from isp_viewer.io.raw import RawMosaic
from isp_viewer.models.spec import InputConvention, InputKind, ModelSpec, Task

Source = RawMosaic | Image


def raw_input(source: RawMosaic, convention: InputConvention) -> np.ndarray:
    """HxW float32 in [0, 1]: the mosaic as a network with this input convention was trained on it.

    Display-referred mosaics (simulated from an sRGB image) are already what demosaickers see."""
    if is_display_referred(source) or convention.as_developed:
        return network_input(source, "camera")
    if convention.black_level == "subtract":
        x = source.normalized()
    else:
        x = np.clip(source.mosaic.astype(np.float32) / np.float32(max(source.white_level, 1)), 0.0, 1.0)
    if convention.white_balance == "camera":
        x *= _per_cfa_site(source, source.white_balance_gains("camera"))
        np.clip(x, 0.0, 1.0, out=x)
    return x


def _per_cfa_site(source: RawMosaic, rgb_values) -> np.ndarray:
    """The (R, G, B) values laid out like the mosaic's CFA, as one repeating cell (broadcasts)."""
    letters = np.array(list(source.cfa)).reshape(source.cfa_indices.shape)
    cell = np.vectorize(lambda letter: float(rgb_values["RGB".index(letter)]))(letters).astype(np.float32)
    reps = (-(-source.height // cell.shape[0]), -(-source.width // cell.shape[1]))
    return np.tile(cell, reps)[:source.height, :source.width]


def to_developed(spec: ModelSpec, out: np.ndarray, source: Source) -> np.ndarray:
    """A camera-space output (a mosaic, or camera RGB of a demosaicker/denoiser) brought from the
    network's input convention to the one `develop` expects: black subtracted, camera white balance."""
    conv = spec.input_convention
    if not isinstance(source, RawMosaic) or is_display_referred(source) or conv.as_developed:
        return out
    if out.ndim == 3 and spec.task not in (Task.DEMOSAICK, Task.JOINT_DENOISE_DEMOSAICK, Task.DENOISE):
        return out   # already display RGB (a learned ISP)
    out = np.array(out, np.float32)
    white = np.float32(max(source.white_level, 1))
    gains = source.white_balance_gains("camera") if conv.white_balance == "none" else np.ones(3, np.float32)
    if out.ndim == 2:
        if out.shape != (source.height, source.width):
            return out
        if conv.black_level == "keep":
            black = source.black_map()
            out = (out * white - black) / np.maximum(white - black, 1.0)
        out *= _per_cfa_site(source, gains)
    else:
        if conv.black_level == "keep":
            black = np.asarray(source.black_levels[:3], np.float32)
            out = (out * white - black) / np.maximum(white - black, 1.0)
        out *= np.asarray(gains, np.float32)
    return np.clip(out, 0.0, 1.0)


def prepare_input(spec: ModelSpec, source: Source, wb: str | None = None) -> tuple[np.ndarray, str | None]:
    """(array, cfa) as spec.infer expects, or ModelError saying why this input cannot work.

    RAW mosaics follow the descriptor's `input_convention` (white balance, black level); wb
    ("camera" | "none") overrides its white balance, for experiments."""
    kind = spec.input_kind
    if kind in (InputKind.BAYER, InputKind.XTRANS):
        if not isinstance(source, RawMosaic):
            raise ModelError(f"{spec.name} needs a RAW mosaic; open a camera RAW file or simulate a mosaic "
                             "from this image")
        if kind is InputKind.BAYER and source.is_xtrans:
            raise ModelError(f"{spec.name} works on 2x2 Bayer mosaics; this file is X-Trans")
        if kind is InputKind.XTRANS and not source.is_xtrans:
            raise ModelError(f"{spec.name} works on X-Trans mosaics; this file is Bayer {source.cfa}")
        convention = spec.input_convention
        if wb is not None:
            convention = replace(convention, white_balance=wb)
        x, cfa = raw_input(source, convention), source.cfa
    else:
        if isinstance(source, RawMosaic):
            raise ModelError(f"{spec.name} needs an RGB image; render the RAW first (e.g. with a LibRaw baseline)")
        rgb = np.clip(source.rgb(), 0, 1)
        if kind is InputKind.SRGB and source.linear:
            rgb = linear_to_srgb(rgb)
        elif kind is InputKind.LINEAR_RGB and not source.linear:
            rgb = srgb_to_linear(rgb)
        x, cfa = np.ascontiguousarray(rgb, np.float32), None
    side = min(x.shape[0], x.shape[1])
    if side < spec.min_size:
        raise ModelError(f"{spec.name} needs images at least {spec.min_size} px on each side; "
                         f"this one is {x.shape[1]}x{x.shape[0]}")
    return x, cfa


def finish_output(spec: ModelSpec, out: np.ndarray, source: Source, label: str, meta: dict) -> Image:
    """The network's output as an Image on the reference grid."""
    out = to_developed(spec, out, source)
    if out.ndim == 2:
        # A mosaic (RAW denoiser, RGB->RAW): shown through a classical demosaic.
        cd = colour_demosaicing()
        cfa = source.cfa if isinstance(source, RawMosaic) else "RGGB"
        out = np.clip(np.asarray(cd.demosaicing_CFA_Bayer_Malvar2004(out, cfa), np.float32), 0, 1)
        meta = {**meta, "shown_via": "Malvar demosaic of the output mosaic"}
    if isinstance(source, RawMosaic) and spec.task in (Task.DEMOSAICK, Task.JOINT_DENOISE_DEMOSAICK, Task.DENOISE):
        return develop(out, source, "srgb", label=label, meta=meta)
    return Image(np.clip(out, 0, 1), linear=spec.input_kind is InputKind.LINEAR_RGB, label=label,
                 source=str(getattr(source, "path", None) or getattr(source, "source", "")), meta=meta)


def reference_option(spec: ModelSpec, reference: Image | None, source: Source) -> dict:
    """{'reference_rgb': HxWx3 sRGB on the source grid} for specs that need one, else {}."""
    if not spec.needs_reference:
        return {}
    if reference is None:
        raise ModelError(f"{spec.name} needs a reference RGB image of the same scene: open one and make it "
                         "the reference")
    rgb = np.clip(reference.rgb(), 0, 1)
    if reference.linear:
        rgb = linear_to_srgb(rgb)
    h, w = source.height, source.width
    if rgb.shape[:2] != (h, w):
        raise ModelError(f"{spec.name}: the reference is {rgb.shape[1]}x{rgb.shape[0]} but the mosaic is {w}x{h}")
    return {"reference_rgb": np.ascontiguousarray(rgb, np.float32)}


def run_full_frame(spec: ModelSpec, net: torch.nn.Module, source: Source, device: str = "cpu",
                   dtype: torch.dtype = torch.float32, **options) -> np.ndarray:
    """One pass over the whole input (no tiling): the reference the engine's tiling is checked against."""
    x, cfa = prepare_input(spec, source)
    options = {k: (v.to(device=device, dtype=dtype) if isinstance(v, torch.nn.Module) else v)
               for k, v in options.items()}
    net = net.to(device=device, dtype=dtype)
    return spec.infer(net, x, cfa=cfa, device=device, dtype=dtype, **{**spec.options, **options})


def option_label(name: str, options: dict) -> str:
    """A result's label with the options the user set, e.g. "... (σ=5/255)"."""
    parts = [f"σ={v:g}/255" if k == "noise_sigma" else f"{k}={v}" for k, v in options.items() if v is not None]
    return f"{name} ({', '.join(parts)})" if parts else name


def run_network(loaded, source: Source, *, reference: Image | None = None, device: str = "cpu",
                dtype: torch.dtype = torch.float32, label: str | None = None, options: dict | None = None) -> Image:
    """Full-frame run of a loaded network (with its companions and reference) as a finished Image.

    meta holds what a sidecar or a session needs: model, weights path and sha256, device, dtype,
    seconds. Callers run networks through the engine (`isp_viewer.engine.run.run_through_engine`:
    tiled, cancellable, cached); this one-pass run is the reference that tests and bench/ compare
    the engine against.
    """
    import time

    spec = loaded.spec
    t0 = time.perf_counter()
    options = dict(options or {})   # user-set infer options (noise_sigma), over the descriptor's defaults
    out = run_full_frame(spec, loaded.net, source, device=device, dtype=dtype, **loaded.infer_options(),
                         **reference_option(spec, reference, source), **options)
    seconds = time.perf_counter() - t0
    meta = {"method": "network", "model": spec.id, "model_name": spec.name, "weights_path": loaded.weights_path,
            "weights_sha256": loaded.weights_sha256, "device": str(device),
            "dtype": str(dtype).removeprefix("torch."), "seconds": round(seconds, 3)}
    if options:
        meta["options"] = options
    return finish_output(spec, out, source, label or option_label(spec.name, options), meta)
