"""Tiles sized by free memory (engine/memory_budget.py) and progress inside one tile's pass."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from isp_viewer.engine import CPU_ONLY, Engine, Job
from isp_viewer.engine.memory_budget import _meminfo_available, tile_budget
from isp_viewer.engine.pass_progress import call_cost
from tests.engine.synthetic import build_loader, conv_spec, lookup, smooth_rgb

PEAK = 1000   # bytes per pixel declared by the synthetic network below


def _engine(spec, free_bytes):
    find = lookup(spec)
    return Engine(build_loader(find), find, None, device_probe=lambda: CPU_ONLY, min_tile=16,
                  default_tiles={"cpu": 32}, memory_probe=lambda device: free_bytes)


def _job(x, spec_id):
    return Job.create(x, spec_id, weights="synthetic", weights_sha256="0" * 64)


def test_budget_is_a_share_of_free_memory_never_below_the_default_tile():
    spec = replace(conv_spec(), peak_bytes_per_pixel=PEAK)
    budget = tile_budget(spec, "cpu", 4, 32 * 32, free_bytes=2 * PEAK * 10_000)   # half of it: 10,000 pixels
    assert budget.pixels == 10_000
    assert budget.reason == "tiles of up to 0.01 MP input: 50% of 19 MiB free on CPU at 1.0 KiB per pixel"
    assert tile_budget(spec, "cpu", 4, 32 * 32, free_bytes=PEAK).pixels == 32 * 32      # the floor
    floor = tile_budget(spec, "cpu", 4, 512 * 512, free_bytes=2 ** 28)
    assert floor.pixels == 512 * 512 and floor.reason == (
        "tiles of 0.26 MP input, the engine's smallest: 50% of 256 MiB free on CPU at 1.0 KiB per pixel "
        "would allow 0.13 MP")
    assert tile_budget(spec, "cuda", 2, 0, free_bytes=10 * PEAK).pixels == 16   # 80 %, fp16 halves the bytes
    # no figure declared, or free memory unknown: the default tile
    assert tile_budget(conv_spec(), "cpu", 4, 1024, free_bytes=10 ** 12) == tile_budget(spec, "cpu", 4, 1024, None)
    assert tile_budget(spec, "cpu", 4, 1024, None).pixels == 1024
    # 32-bit indexing: the widest tensor (half the peak) stays under 2**31 elements
    assert tile_budget(spec, "cuda", 4, 0, free_bytes=10 ** 15).pixels == int((2 ** 31 - 1) * 4 / (PEAK / 2))


def test_meminfo_is_read_in_bytes_and_unreadable_means_unknown(tmp_path: Path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24000000 kB\nMemFree:  100 kB\nMemAvailable:   20000000 kB\n")
    assert _meminfo_available(meminfo) == 20_000_000 * 1024
    assert _meminfo_available(tmp_path / "absent") is None
    meminfo.write_text("MemTotal: 1 kB\n")
    assert _meminfo_available(meminfo) is None


def test_an_image_within_free_memory_runs_as_one_tile_and_equals_the_full_frame():
    spec = replace(conv_spec(depth=3), peak_bytes_per_pixel=PEAK)
    x = smooth_rgb(120, 160)                       # 19,200 pixels, far above the 32x32 default tile
    full = spec.infer(spec.build(), x)
    with _engine(spec, free_bytes=2 * PEAK * 20_000) as engine:
        one = engine.submit(_job(x, spec.id)).result(30)
    assert (one.tiles, one.tile_size) == (1, 160) and one.notes == ()
    assert np.abs(one.output - full).max() < 1e-5
    with _engine(spec, free_bytes=2 * PEAK * 5_000) as engine:   # room for a quarter: cut, and said so
        cut = engine.submit(_job(x, spec.id)).result(30)
    assert cut.tiles == 4 and cut.notes == ("tiles of up to 0.01 MP input: 50% of 10 MiB free on CPU "
                                            "at 1.0 KiB per pixel",)
    assert np.abs(cut.output - full).max() < 1e-5
    with _engine(spec, free_bytes=None) as engine:               # free memory unknown: the default tiles
        default = engine.submit(_job(x, spec.id)).result(30)
    assert default.tiles > 4 and default.tile_size <= 32 + 1


def test_one_tile_reports_how_far_its_pass_is():
    """A frame in one tile (minutes on a CPU for a big SR output) still moves the bar: reports by
    module calls, rising, below 1 until the pass ends."""
    spec = replace(conv_spec(depth=8), peak_bytes_per_pixel=PEAK)
    x = smooth_rgb(64, 64)
    with _engine(spec, free_bytes=10 ** 9) as engine:
        seen = []
        result = engine.submit(_job(x, spec.id), progress=seen.append).result(30)
    assert result.tiles == 1
    fractions = [p.fraction for p in seen]
    inside = fractions[1:-1]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0 and len(inside) >= 5
    assert inside == sorted(set(inside)) and all(0 < f < 1 for f in inside)
    assert all(p.done == 0 and p.total == 1 for p in seen[:-1])


class CheapThenCostly(nn.Module):
    """Nine 1x1 convolutions of 3 channels, then one 9x9 convolution to 64 channels and back: the
    last two hold 99 % of the multiply-accumulates, as an SR network's upsamplers hold most of its."""

    def __init__(self) -> None:
        super().__init__()
        self.cheap = nn.Sequential(*[nn.Conv2d(3, 3, 1) for _ in range(9)])
        self.costly = nn.Sequential(nn.Conv2d(3, 64, 9, padding=4), nn.Conv2d(64, 3, 1))

    def forward(self, x):
        return self.costly(self.cheap(x))


def test_progress_follows_the_cost_of_the_layers_not_their_number():
    """The bar stays near 0 through the nine cheap layers (counting calls would put it at 70 %)
    and rises once the costly layer has run; the second pass uses the first's probe."""
    spec = replace(conv_spec(), id="cheap_then_costly", build=CheapThenCostly, tile_overlap=4,
                   infer=lambda net, x, **kw: _run_plain(net, x), peak_bytes_per_pixel=PEAK)
    x = smooth_rgb(160, 160)
    passes = []
    with _engine(spec, free_bytes=10 ** 9) as engine:
        for _ in range(2):
            seen: list = []
            engine.submit(_job(x, spec.id), progress=seen.append).result(30)
            passes.append([round(p.fraction, 2) for p in seen][1:-1])
    # calls: root, cheap, 9 convs, costly, 9x9 conv, 1x1 conv; the first 14 start within the
    # cheap layers' 2.7 %, the last after the 9x9 convolution (whole percents are reported)
    cheap = 9 * 3 * 16           # per pixel: 3 inputs x 16 (the channel floor), 1x1
    costly = 81 * 3 * 64 + 64 * 16
    assert passes[0] == passes[1] == [0.01, 0.02, int(100 * (cheap + 81 * 3 * 64) / (cheap + costly)) / 100]
    assert passes[0][-1] == 0.93


def _run_plain(net, x):
    t = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None]
    return net(t)[0].numpy().transpose(1, 2, 0).copy()


def test_cost_of_a_call_from_its_shapes():
    x = torch.zeros(1, 8, 10, 10)
    assert call_cost(nn.Conv2d(8, 32, 3, padding=1), (x,), torch.zeros(1, 32, 10, 10)) == 100 * 32 * 9 * 8
    assert call_cost(nn.Conv2d(8, 3, 3, padding=1), (x,), torch.zeros(1, 3, 10, 10)) == 100 * 16 * 9 * 8
    assert call_cost(nn.Conv2d(8, 8, 3, padding=1, groups=8), (x,), torch.zeros(1, 8, 10, 10)) == 100 * 16 * 9
    up = nn.ConvTranspose2d(8, 4, 2, stride=2)
    assert call_cost(up, (x,), torch.zeros(1, 4, 20, 20)) == 800 * 4 * 4
    assert call_cost(nn.PReLU(), (x,), x) == 800 * 64
    assert call_cost(nn.Identity(), (x,), None) == 0
