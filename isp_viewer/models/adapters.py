"""From what the user opened (a RawMosaic or an Image) to a network's input, and back.

Each network's own `infer` handles its packing, phase and padding; this module only decides
which array it receives (white-balanced mosaic, sRGB, linear RGB) and how its output becomes an
`Image` on the reference grid (camera-RGB outputs are developed like LibRaw's).
"""

from __future__ import annotations

from typing import Union

import numpy as np
import torch

from isp_viewer.core.errors import ModelError
from isp_viewer.core.image import Image, linear_to_srgb, srgb_to_linear
from isp_viewer.io.develop import colour_demosaicing, develop, network_input
from isp_viewer.io.raw import RawMosaic
from isp_viewer.models.spec import InputKind, ModelSpec, Task

Source = Union[RawMosaic, Image]


def prepare_input(spec: ModelSpec, source: Source, wb: str = "camera") -> tuple[np.ndarray, str | None]:
    """(array, cfa) as spec.infer expects, or ModelError saying why this input cannot work."""
    kind = spec.input_kind
    if kind in (InputKind.BAYER, InputKind.XTRANS):
        if not isinstance(source, RawMosaic):
            raise ModelError(f"{spec.name} needs a RAW mosaic; open a camera RAW file or simulate a mosaic from this image")
        if kind is InputKind.BAYER and source.is_xtrans:
            raise ModelError(f"{spec.name} works on 2x2 Bayer mosaics; this file is X-Trans")
        if kind is InputKind.XTRANS and not source.is_xtrans:
            raise ModelError(f"{spec.name} works on X-Trans mosaics; this file is Bayer {source.cfa}")
        x, cfa = network_input(source, wb), source.cfa
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
        raise ModelError(f"{spec.name} needs images at least {spec.min_size} px on each side; this one is {x.shape[1]}x{x.shape[0]}")
    return x, cfa


def finish_output(spec: ModelSpec, out: np.ndarray, source: Source, label: str, meta: dict) -> Image:
    """The network's output as an Image on the reference grid."""
    if out.ndim == 2:
        # A mosaic (RAW denoiser, RGB->RAW): shown through a classical demosaic.
        cd = colour_demosaicing()
        cfa = source.cfa if isinstance(source, RawMosaic) else "RGGB"
        out = np.clip(np.asarray(cd.demosaicing_CFA_Bayer_Malvar2004(out, cfa), np.float32), 0, 1)
        meta = {**meta, "shown_via": "Malvar demosaic of the output mosaic"}
    if isinstance(source, RawMosaic) and spec.task in (Task.DEMOSAICK, Task.JOINT_DENOISE_DEMOSAICK, Task.DENOISE):
        return develop(out, source, "srgb", label=label, meta=meta)
    return Image(np.clip(out, 0, 1), linear=spec.input_kind is InputKind.LINEAR_RGB, label=label,
                 source=getattr(source, "path", None) or getattr(source, "source", ""), meta=meta)


def reference_option(spec: ModelSpec, reference: Image | None, source: Source) -> dict:
    """{'reference_rgb': HxWx3 sRGB on the source grid} for specs that need one, else {}."""
    if not spec.needs_reference:
        return {}
    if reference is None:
        raise ModelError(f"{spec.name} needs a reference RGB image of the same scene: open one and make it the reference")
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
    options = {k: (v.to(device=device, dtype=dtype) if isinstance(v, torch.nn.Module) else v) for k, v in options.items()}
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
    seconds. The engine runs the same networks tiled; this is the one-pass path of the CLI, the
    session provider and the window's Methods menu.
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
