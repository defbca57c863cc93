"""Small synthetic networks and descriptors for engine tests (fast, deterministic, CPU).

- ValidConvNet: `depth` valid 3x3 convolutions (receptive radius = depth), optional PixelShuffle
  upsampling; its infer reflect-pads by the radius only at the array's borders, as the real
  ports do, so a tiled run equals the full frame exactly when tile_overlap >= depth.
- The mosaic variant reads colour from the CFA string at tile-local coordinates, so a tile that
  starts off the CFA phase gives a visibly wrong result.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from isp_viewer.io.images import cfa_masks
from isp_viewer.models.spec import InputKind, ModelSpec, Task

XTRANS_CELL = "GGRGGBGGBGGRBRGRBGGGBGGRGGRGGBRBGBRG"


class ValidConvNet(nn.Module):
    def __init__(self, depth: int = 4, scale: int = 1, width: int = 8, seed: int = 0) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        layers: list[nn.Module] = []
        c_in = 3
        for i in range(depth):
            conv = nn.Conv2d(c_in, width if i < depth - 1 else 3 * scale * scale, 3)
            with torch.no_grad():
                conv.weight.copy_(torch.randn(conv.weight.shape, generator=gen) / (3 * c_in ** 0.5))
                conv.bias.copy_(0.05 * torch.randn(conv.bias.shape, generator=gen))
            layers += [conv, nn.Tanh()] if i < depth - 1 else [conv]
            c_in = width
        if scale > 1:
            layers.append(nn.PixelShuffle(scale))
        self.body = nn.Sequential(*layers)
        self.depth, self.scale = depth, scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.body(x))


def _run_valid(net: ValidConvNet, chw: np.ndarray, device, dtype) -> np.ndarray:
    r = net.depth
    net.to(device=device, dtype=dtype)
    with torch.inference_mode():
        t = torch.from_numpy(np.ascontiguousarray(chw))[None].to(device=device, dtype=dtype)
        t = nn.functional.pad(t, (r, r, r, r), mode="reflect")
        out = net(t)[0].float().cpu().numpy()
    return np.ascontiguousarray(out.transpose(1, 2, 0), np.float32)


def infer_rgb(net: ValidConvNet, x: np.ndarray, *, cfa: str | None = None, device="cpu",
              dtype=torch.float32, gain: float = 1.0, **options: Any) -> np.ndarray:
    return _run_valid(net, x.transpose(2, 0, 1) * np.float32(gain), device, dtype)


def infer_mosaic(net: ValidConvNet, x: np.ndarray, *, cfa: str | None = None, device="cpu",
                 dtype=torch.float32, **options: Any) -> np.ndarray:
    masks = cfa_masks(cfa, *x.shape).astype(np.float32)       # tile-local CFA phase
    return _run_valid(net, (x[:, :, None] * masks).transpose(2, 0, 1), device, dtype)


def conv_spec(id: str = "conv_rgb", *, depth: int = 4, scale: int = 1, overlap: int | None = None,
              kind: InputKind = InputKind.SRGB, tiling_safe: bool = True, fp16: bool = False,
              infer: Callable | None = None, min_size: int = 1, size_multiple: int = 1) -> ModelSpec:
    mosaic = kind in (InputKind.BAYER, InputKind.XTRANS)
    align = {InputKind.BAYER: 2, InputKind.XTRANS: 6}.get(kind, 1)
    return ModelSpec(
        id=id, name=f"Synthetic {id}", task=Task.SUPER_RESOLUTION if scale > 1 else Task.DEMOSAICK,
        input_kind=kind, build=lambda: ValidConvNet(depth, scale), manifest="",
        infer=infer or (infer_mosaic if mosaic else infer_rgb), output_scale=scale, size_multiple=size_multiple,
        min_size=min_size, tiling_safe=tiling_safe, tile_overlap=depth if overlap is None else overlap,
        tile_align=align, fp16=fp16)


def smooth_rgb(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A textured HxWx3 float32 image in [0, 1]."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = 0.5 + 0.3 * np.sin(xx[..., None] / (3.0 + np.arange(3)) + yy[..., None] / 5.0)
    return np.clip(base + 0.1 * rng.standard_normal((h, w, 3)), 0, 1).astype(np.float32)


# --- behaviour probes -----------------------------------------------------------------------------


class Sleep(nn.Module):
    """A layer that takes `seconds` and records when it started (cancellation tests)."""

    def __init__(self, seconds: float, log: list[float]) -> None:
        super().__init__()
        self.seconds, self.log = seconds, log

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.log.append(time.perf_counter())
        time.sleep(self.seconds)
        return x


def sleepy_spec(log: list[float], layers: int = 10, seconds: float = 0.05) -> tuple[ModelSpec, Callable]:
    """An identity network whose every tile takes layers * seconds; returns (spec, loader)."""

    def infer(net, x, *, cfa=None, device="cpu", dtype=torch.float32, **options):
        with torch.inference_mode():
            net(torch.zeros(1))
        return x.copy()

    spec = ModelSpec(id="sleepy", name="Sleepy", task=Task.DENOISE, input_kind=InputKind.SRGB,
                     build=lambda: nn.Sequential(*[Sleep(seconds, log) for _ in range(layers)]), infer=infer,
                     manifest="", tile_overlap=0, tile_align=1)
    return spec, lambda s, w: s.build()


def gated_spec(calls: list[str]) -> ModelSpec:
    """Identity network whose infer records options['tag'] and waits for options['gate'] if given."""

    def infer(net, x, *, cfa=None, device="cpu", dtype=torch.float32, tag: str = "",
              gate: threading.Event | None = None,
              on_run: Callable[[], None] | None = None, **options):
        calls.append(tag)
        if on_run is not None:
            on_run()
        if gate is not None and not gate.wait(10):
            raise TimeoutError("test gate never opened")
        return x.copy()

    return ModelSpec(id="gated", name="Gated", task=Task.DENOISE, input_kind=InputKind.SRGB,
                     build=lambda: nn.Identity(), infer=infer, manifest="", tile_overlap=0, tile_align=1,
                     tiling_safe=False)


def lookup(*specs: ModelSpec) -> Callable[[str], ModelSpec]:
    table = {s.id: s for s in specs}
    return table.__getitem__


def build_loader(spec_lookup: Callable[[str], ModelSpec], counter: list | None = None):
    def load(spec: ModelSpec, weights: str | None) -> nn.Module:
        if counter is not None:
            counter.append((spec.id, weights))
        return spec.build()

    return load
