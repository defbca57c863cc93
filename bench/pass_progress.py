"""How well a job's bar tracks one long pass: the engine's in-pass progress against the time it took.

For each network, one frame runs through the engine as a single tile (or whole frame) in a fresh
engine, with random weights (time does not depend on their values). Every progress report is
stamped; the true share of a report is its time since the pass began over the pass's length.
Printed per network: the largest gap between reported and true share, for the cost model
(engine/pass_progress.py: a probe on 1/8 of the input learns each layer's cost) and, in the same
run, for the baseline that counts module calls (the probe switched off), and the probe's own
time as a share of the pass.

    .venv/bin/python bench/pass_progress.py [--nets id,id] [--side N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DEFAULT_NETS = ("srgan_leftthomas_x4", "srgan_lornatang_x4", "srgan_leftthomas_x2", "demosaicnet_bayer",
                "demosaicnet_xtrans", "pynet", "cycleisp_denoise_rgb", "uhdfour_lol")
SIDES = {1: 1024, 2: 512, 4: 320, 8: 160}   # input side per output scale


def one_pass(spec, side: int, probe: bool) -> tuple[float, float, float]:
    """(largest gap, pass seconds, probe seconds) of one engine run with a fresh engine."""
    from isp_viewer.engine import CPU_ONLY, Engine, Job
    from isp_viewer.engine import pass_progress as pp
    from isp_viewer.models.nets.demosaicnet import XTRANS_CFA
    from isp_viewer.models.spec import InputKind

    cfa = {InputKind.BAYER: "RGGB", InputKind.XTRANS: XTRANS_CFA}.get(spec.input_kind)
    shape = (side, side) if cfa is not None else (side, side, 3)
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    saved = pp.PROBE_MIN_SIDE
    pp.PROBE_MIN_SIDE = saved if probe else 10 ** 9   # baseline: too small to probe, so calls are counted
    probe_seconds = [0.0]
    learn = pp.PassProgress._learn

    def timed_learn(self, net, args):
        t = time.perf_counter()
        try:
            return learn(self, net, args)
        finally:
            probe_seconds[0] += time.perf_counter() - t

    pp.PassProgress._learn = timed_learn   # type: ignore[method-assign]
    stamps: list[tuple[float, float]] = []
    try:
        with Engine(lambda s, w: s.build(), lambda i: spec, device_probe=lambda: CPU_ONLY,
                    default_tiles={"cpu": 4 * side}, memory_probe=None) as engine:
            job = Job.create(x, spec.id, weights="random", weights_sha256="", cfa=cfa, tile_size=None)
            t0 = time.perf_counter()
            result = engine.submit(job, progress=lambda p: stamps.append((time.perf_counter(), p.fraction))).result()
            t1 = time.perf_counter()
    finally:
        pp.PROBE_MIN_SIDE, pp.PassProgress._learn = saved, learn   # type: ignore[method-assign]
    assert result.tiles == 1, result.tiles
    start = t0 + probe_seconds[0]   # the pass proper begins after the probe
    span = t1 - start
    gaps = [abs(f - max(0.0, t - start) / span) for t, f in stamps if 0 < f < 1]
    return max(gaps, default=float("nan")), span, probe_seconds[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nets", default=",".join(DEFAULT_NETS))
    parser.add_argument("--side", type=int, default=0, help="input side (default: by output scale)")
    args = parser.parse_args()
    from isp_viewer.models.registry import get_spec

    print(f"{'network':22} {'input':>9} {'pass s':>7} {'gap, cost model':>16} {'gap, counting calls':>20} "
          f"{'probe / pass':>13}")
    for spec_id in args.nets.split(","):
        spec = get_spec(spec_id)
        side = args.side or SIDES.get(spec.output_scale, 256)
        if spec.size_multiple > 1:
            side -= side % spec.size_multiple
        counted, _, _ = one_pass(spec, side, probe=False)
        modelled, seconds, probe = one_pass(spec, side, probe=True)
        print(f"{spec_id:22} {side:>4}x{side:<4} {seconds:>7.1f} {modelled:>16.3f} {counted:>20.3f} "
              f"{probe / seconds:>13.3f}", flush=True)


if __name__ == "__main__":
    main()
