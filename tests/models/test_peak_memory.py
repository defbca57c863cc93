"""Each tile-safe descriptor's `peak_bytes_per_pixel` (the engine sizes its tiles by it) is checked
against the network itself: forward hooks find the widest layer, the largest sum of the distinct
tensors one leaf module reads and writes, per pixel of the tile. A peak can be no smaller than
that, and the measured peaks (bench/tile_memory.py, as a slope over tile sizes: 1.2-2.0x for
SRGAN, 2.3-2.7x for demosaicnet; declared with a margin, 2.3-3.1x) stay within 4x, so a figure
outside [1x, 4x] is a typo or an outdated measurement."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from isp_viewer.models.nets.demosaicnet import XTRANS_CFA
from isp_viewer.models.registry import all_specs
from isp_viewer.models.spec import InputKind, ModelSpec

TILE_SAFE = [s for s in all_specs() if s.tiling_safe]


def widest_layer_bytes_per_pixel(spec: ModelSpec, side: int) -> float:
    net = spec.build().eval()
    widest = [0]

    def hook(module, inputs, output):
        tensors = {t.untyped_storage().data_ptr(): t for t in (*inputs, output) if torch.is_tensor(t)}
        widest[0] = max(widest[0], sum(t.numel() * t.element_size() for t in tensors.values()))

    handles = [m.register_forward_hook(hook) for m in net.modules() if not list(m.children())]
    cfa = {InputKind.BAYER: "RGGB", InputKind.XTRANS: XTRANS_CFA}.get(spec.input_kind)
    shape = (side, side) if cfa is not None else (side, side, 3)
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    extra = {"context": (spec.tile_overlap,) * 4} if spec.takes_context else {}   # no padding: the tile alone
    try:
        with torch.inference_mode():
            spec.infer(net, x, cfa=cfa, device="cpu", dtype=torch.float32, **spec.options, **extra)
    finally:
        for handle in handles:
            handle.remove()
    return widest[0] / (side * side)


def test_every_tile_safe_network_declares_its_peak():
    assert TILE_SAFE and all(s.peak_bytes_per_pixel > 0 for s in TILE_SAFE)


@pytest.mark.parametrize("spec", TILE_SAFE, ids=lambda s: s.id)
def test_declared_peak_is_between_one_and_four_widest_layers(spec):
    # demosaicnet: a large tile, so that its valid convolutions' shrink is small; SRGAN's widest
    # layer per input pixel does not depend on the size (its upsamplers keep every pixel)
    side = 384 if spec.output_scale == 1 else 24
    widest = widest_layer_bytes_per_pixel(spec, side)
    assert widest <= spec.peak_bytes_per_pixel <= 4 * widest, f"widest layer {widest:.0f} B/px"
