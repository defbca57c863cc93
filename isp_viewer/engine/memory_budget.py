"""How many input pixels one tile may hold: as many as the device's free memory allows.

Every inner seam of a tiled run computes the network's receptive field twice, so the fewer the
tiles the closer a tiled run comes to one full-frame pass (issue 16: SRGAN x4 at 2 MP output on
the CPU split into 2 tiles computes 1.185x the pixels and reached 0.69 of full-frame
throughput). The engine therefore cuts only as far as memory requires:

    tile pixels <= share x free bytes / (peak bytes per input pixel x element size / 4)

`ModelSpec.peak_bytes_per_pixel` is the network's measured working memory in fp32 per pixel of
the tile it is given (bench/tile_memory.py measures it; tests/models/test_peak_memory.py checks
it against the widest layer). The budget never falls below the engine's default tile, and no
tile's widest tensor reaches 2**31 elements (convolution kernels index with 32 bits). Free
memory is MemAvailable on Linux (CPU) and cudaMemGetInfo plus torch's cached blocks (CUDA);
where it cannot be read, or the descriptor declares no figure, the default tile stays.
An estimate that proves short on a GPU is caught by the tiler's out-of-memory halving; on the
CPU an overrun would meet the kernel's OOM killer instead, hence the smaller share there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from isp_viewer.models.spec import ModelSpec

SHARE = {"cpu": 0.5, "cuda": 0.8, "mps": 0.5}   # of free memory one tile may plan to use
MAX_ELEMENTS = 2 ** 31 - 1
WIDEST_SHARE = 0.5    # the widest tensor holds at most this share of the peak (input + output)

MemoryProbe = Callable[[str], "int | None"]


def available_memory(device: str) -> int | None:
    """Free bytes on `device` ("cpu", "cuda", "mps"), or None where they cannot be read."""
    if device == "cpu":
        return _meminfo_available()
    import torch

    if device == "cuda" and torch.cuda.is_available():
        free, _total = torch.cuda.mem_get_info()
        return int(free + torch.cuda.memory_reserved() - torch.cuda.memory_allocated())
    if device == "mps" and getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        recommended = int(torch.mps.recommended_max_memory())
        return max(0, recommended - int(torch.mps.driver_allocated_memory()))
    return None


def _meminfo_available(path: Path = Path("/proc/meminfo")) -> int | None:
    try:
        for line in path.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


@dataclass(frozen=True)
class TileBudget:
    pixels: int        # input pixels one tile may hold (its core; the context comes on top)
    reason: str        # in words, for the run's notes


def tile_budget(spec: ModelSpec, device: str, element_size: int, default_pixels: int,
                free_bytes: int | None) -> TileBudget:
    """The pixel budget of one tile of `spec` on `device` with `free_bytes` free (None: unknown)."""
    per_pixel = spec.peak_bytes_per_pixel * element_size / 4
    if per_pixel <= 0 or free_bytes is None:
        return TileBudget(default_pixels, "")
    share = SHARE.get(device, SHARE["cpu"])
    by_memory = int(share * free_bytes / per_pixel)
    by_indexing = int(MAX_ELEMENTS * element_size / (per_pixel * WIDEST_SHARE))
    pixels = max(default_pixels, min(by_memory, by_indexing))
    room = f"{share:.0%} of {_size(free_bytes)} free on {device.upper()} at {per_pixel / 1024:.1f} KiB per pixel"
    if pixels == default_pixels and by_memory < default_pixels:
        reason = (f"tiles of {pixels / 1e6:.2f} MP input, the engine's smallest: {room} would allow "
                  f"{by_memory / 1e6:.2f} MP")
    else:
        reason = f"tiles of up to {pixels / 1e6:.2f} MP input: {room}"
    return TileBudget(pixels, reason)


def _size(n: int) -> str:
    return f"{n / 2 ** 30:.1f} GiB" if n >= 2 ** 30 else f"{n / 2 ** 20:.0f} MiB"
