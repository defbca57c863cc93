"""Peak working memory per tile pixel of each tile-safe network on the CPU (fp32).

Each network runs in a fresh interpreter with the engine's heap policy: built (random weights:
memory does not depend on their values), warmed on a small tile, the heap trimmed and the peak
RSS reset (/proc/self/clear_refs); then one tile of --side pixels per side is run and the growth
of the peak RSS over the trimmed baseline is divided by the tile's pixels. That is the figure a
descriptor declares as `peak_bytes_per_pixel` (printed beside it), which the engine divides free
memory by to size its tiles (engine/memory_budget.py). Linux only (/proc).

    .venv/bin/python bench/tile_memory.py [--nets id,id] [--side N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIDES = {1: 768, 2: 192, 4: 128, 8: 64}   # input tile side per output scale (and twice that)

PROBE = r"""
import json, sys
import numpy as np, torch
sys.path.insert(0, "bench")
from _process import reset_peak_rss, status_kib
from isp_viewer.engine.host_memory import give_back_freed_memory, keep_freed_memory
keep_freed_memory()
from isp_viewer.models.registry import get_spec
from isp_viewer.models.nets.demosaicnet import XTRANS_CFA

spec = get_spec(sys.argv[1]); side = int(sys.argv[2])
torch.set_num_threads(2)
net = spec.build().eval()
kind = spec.input_kind.name
cfa = {"BAYER": "RGGB", "XTRANS": XTRANS_CFA}.get(kind)
def tile(n):
    shape = (n, n) if cfa is not None else (n, n, 3)
    return np.random.default_rng(0).random(shape, dtype=np.float32)
def run(x):
    m = spec.tile_overlap
    extra = {"context": (m, m, m, m)} if spec.takes_context else {}
    with torch.inference_mode():
        return spec.infer(net, x, cfa=cfa, device="cpu", dtype=torch.float32, **spec.options, **extra)
run(tile(max(48, 2 * spec.tile_overlap + 16)))
x = tile(side)
give_back_freed_memory()
reset_peak_rss()
base = status_kib("VmRSS") * 1024
y = run(x)
peak = status_kib("VmHWM") * 1024
print(json.dumps({"growth": peak - base, "pixels": side * side, "declared": spec.peak_bytes_per_pixel}))
"""


def measure(spec_id: str, side: int) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, spec_id, str(side)], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from isp_viewer.models.registry import all_specs

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nets", default="", help="comma-separated ids (default: every tile-safe network)")
    parser.add_argument("--side", type=int, default=0, help="input tile side (default: by output scale)")
    args = parser.parse_args()
    wanted = [n for n in args.nets.split(",") if n]
    specs = [s for s in all_specs() if s.tiling_safe and (not wanted or s.id in wanted)]
    print(f"{'network':24} {'tiles':>15} {'peak growths':>15} {'bytes/pixel':>12} {'declared':>9} "
          f"{'declared/measured':>18}")
    for spec in specs:
        side = args.side or SIDES.get(spec.output_scale, 128)
        small, large = measure(spec.id, side), measure(spec.id, 2 * side)
        per_pixel = (large["growth"] - small["growth"]) / (large["pixels"] - small["pixels"])
        ratio = large["declared"] / per_pixel if per_pixel > 0 else float("nan")
        growths = f"{small['growth'] / 2 ** 20:.0f}, {large['growth'] / 2 ** 20:.0f} MB"
        print(f"{spec.id:24} {side:>6}, {2 * side:<6} {growths:>15} {per_pixel:>12.0f} "
              f"{large['declared']:>9} {ratio:>18.2f}", flush=True)


if __name__ == "__main__":
    main()
