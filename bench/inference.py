"""Network throughput: one full-frame pass vs the engine (tiled), peak memory, and fp16 vs fp32 on GPU.

Run: .venv/bin/python bench/inference.py [--device auto|cpu|cuda|mps] [--mp 0.5] [--whole-mp 0.03]
                                         [--nets id,id,...] [--shared ../shared] [--weights FILE] [--tile N]
                                         [--free-gib G]
     .venv/bin/python bench/inference.py --mp 12        # >= 12 MP (GPU or a big machine)

Networks with real weights use them (demosaicnet Bayer/X-Trans from the registry or its wheel,
leftthomas SRGAN x4 from <shared>/weights or --weights); every other network runs with the
deterministic crc32-lecun fill of its reference manifest (speed does not depend on the values).
Each network runs in its own subprocess. Both paths run there, interleaved: one warm-up of
each on a small crop, then `--repeat` back-to-back pairs in alternating order; engine/full is the
median of the pairs' ratios (this machine's speed drifts by 10-20 % between minutes, which a
full-then-engine order would read as a difference between the paths). Peak resident memory
(VmHWM from /proc/self/status, reset through /proc/self/clear_refs) and the CUDA peak
(torch.cuda.max_memory_allocated) are reset before each path's first timed run. Both paths run in
a worker thread, as the engine does.

Sizes: `--mp` is the input of scale-1 tile-safe networks and the *output* of super-resolution
(input mp / scale^2). Networks that are not tile-safe run whole-frame through the engine as
well, so they are measured at `--whole-mp` (small by default on CPU, where they are slow).
MP/s counts input pixels. |diff| is max |engine - full| over the output; tiled networks must
stay below 1e-3. The engine cuts a frame into tiles only as far as free memory requires
(engine/memory_budget.py), so a frame that fits runs as one tile; `--free-gib` tells it less is
free, to measure what the seams of a tiled run cost. On GPU each network is also run in fp16
(the descriptor's fp16 flag forced on: this measures speed, not whether fp16 is accurate enough).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _process import in_thread, reset_peak_rss, status_kib  # noqa: E402  (bench/ is the script's folder)

XTRANS_CELL = "GGRGGBGGBGGRBRGRBGGGBGGRGGRGGBRBGBRG"
REAL_WEIGHTS = {"srgan_leftthomas_x4": "weights/srgan_leftthomas/netG_epoch_4_100.pth",
                "demosaicnet_bayer": "weights/demosaicnet/bayer.pth",
                "demosaicnet_xtrans": "weights/demosaicnet/xtrans.pth",
                "kokkinos_bayer": "weights/kokkinos/bayer/model_best.pth",
                "kokkinos_bayer_noisy": "weights/kokkinos/bayer_noisy/model_best.pth",
                "kokkinos_xtrans": "weights/kokkinos/xtrans/model_best.pth"}
# Networks with a block mode (option frame): "full" runs the whole frame, "engine" the blocks.
FRAME_OPTIONS = {"full": {"frame": "whole"}, "engine": {"frame": "blocks"}}
# Variants that repeat an architecture already measured are left out unless named in --nets.
DEFAULT_SKIP = {"srgan_leftthomas_x2", "srgan_leftthomas_x8"}
SAVE_LIMIT_BYTES = 512 * 1024 ** 2


# --- inside a case subprocess ------------------------------------------------------------------


def _input_shape(mp: float, unit: int = 12) -> tuple[int, int]:
    w = math.sqrt(mp * 1e6 * 1.5)
    return max(unit, int(w / 1.5) // unit * unit), max(unit, int(w) // unit * unit)


def _make_input(spec, mp: float):
    """(x, cfa, options) for spec at about mp megapixels: a natural photo, mosaicked where needed."""
    import cv2
    import skimage.data

    from isp_viewer.io.images import mosaic_from_rgb
    from isp_viewer.models.spec import InputKind

    h, w = _input_shape(mp / spec.output_scale ** 2)
    h, w = max(h, spec.min_size), max(w, spec.min_size)
    rgb = cv2.resize(skimage.data.astronaut(), (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    options = {}
    if spec.input_kind is InputKind.BAYER:
        x, cfa = mosaic_from_rgb(rgb, "RGGB"), "RGGB"
    elif spec.input_kind is InputKind.XTRANS:
        x, cfa = mosaic_from_rgb(rgb, XTRANS_CELL), XTRANS_CELL
    else:
        x, cfa = rgb, None
    if spec.id == "cycleisp_raw2rgb":
        options["reference_rgb"] = rgb  # its colour branch reads a clean RGB of the same scene
    return np.ascontiguousarray(x, np.float32), cfa, options


def _loader(spec, weights: str, shared: Path):
    """A function returning a fresh CPU fp32 module with real or crc32-filled weights.

    The tensors are read or generated here, on the main thread, for both paths: generating the
    crc32 fill on a worker thread leaves libgomp threads spinning and halved later throughput on
    a 2-core machine (an artefact of the fill, not of the engine).
    """
    from isp_viewer.models.golden import crc32_lecun_fill, load_manifest
    from isp_viewer.models.loading import read_checkpoint

    if weights == "crc32":
        state = crc32_lecun_fill(load_manifest(shared / "reference" / "manifests" / spec.manifest))
    else:
        state = read_checkpoint(weights)

    def load(spec_, _weights=None):
        from isp_viewer.models.loading import load_strict

        net = spec.build()
        load_strict(net, state, "crc32 fill" if weights == "crc32" else Path(weights).name)
        return net.float().eval().requires_grad_(False)

    return load


def _extra_options(spec, shared: Path) -> dict:
    if spec.id != "cycleisp_raw2rgb":
        return {}
    from isp_viewer.models.golden import crc32_lecun_fill, load_manifest
    from isp_viewer.models.nets.cycleisp import build_ccm

    ccm = build_ccm()
    ccm.load_state_dict(crc32_lecun_fill(load_manifest(shared / "reference" / "manifests" / "cycleisp_ccm.json")))
    return {"ccm_net": ccm.eval()}


def _prepare(case: dict) -> dict:
    """The case's network, input and options, and a warm-up input (a small crop)."""
    from isp_viewer.models.registry import get_spec

    shared = Path(case["shared"])
    spec = get_spec(case["net"])
    if case["precision"] == "fp16":
        spec = dataclasses.replace(spec, fp16=True)  # speed only: the descriptor decides what users get
    x, cfa, options = _make_input(spec, case["mp"])
    options = {**spec.options, **options, **_extra_options(spec, shared)}
    warm_side = max(96, spec.min_size, spec.size_multiple)
    warm = np.ascontiguousarray(x[:warm_side, :warm_side])
    warm_options = dict(options)
    if "reference_rgb" in options:
        warm_options["reference_rgb"] = np.ascontiguousarray(options["reference_rgb"][:warm_side, :warm_side])
    return {"spec": spec, "load": _loader(spec, case["weights"], shared), "x": x, "cfa": cfa,
            "options": options, "warm": warm, "warm_options": warm_options}


def _path_runner(path: str, case: dict, p: dict, info: dict):
    """run(inp, opts) -> output for one path: "full" calls the network's infer once on the whole
    input in a fresh thread; "engine" submits a Job to an Engine (its worker thread, its tiles)."""
    import torch

    from isp_viewer.engine import Engine, Job

    spec, cfa, device = p["spec"], p["cfa"], case["device"]
    dtype = torch.float16 if case["precision"] == "fp16" else torch.float32
    frame = FRAME_OPTIONS[path] if "frame" in spec.options else {}
    if path == "full":
        net = p["load"](spec)
        return lambda inp, opts: in_thread(
            lambda: spec.infer(net, inp, cfa=cfa, device=device, dtype=dtype, **{**opts, **frame}))
    free = case.get("free_gib")
    # the engine sizes tiles by free memory; --free-gib states it, to measure the seams it then needs
    probe = {} if free is None else {"memory_probe": lambda device: int(free * 2 ** 30)}
    engine = Engine(p["load"], lambda _id: spec, None, **probe)

    def run(inp, opts):
        job = Job.create(inp, spec.id, cfa=cfa, weights=case["weights"], weights_sha256="",
                         options={**opts, **frame}, device=device, precision=case["precision"],
                         tile_size=case.get("tile"))
        result = engine.run(job)
        info.update(tiles=result.tiles, tile_size=result.tile_size, notes=list(result.notes),
                    ran_on=f"{result.device} {result.dtype}")
        return result.output
    return run


def run_case(case: dict) -> dict:
    """Both paths in one process, interleaved: a warm-up of each, then `repeat` pairs in
    alternating order (full-engine, engine-full, ...). The ratio is the median of the pairs'
    ratios, so a machine that speeds up or slows down during the case (other work, clocks)
    moves both sides of a pair alike. Peak memory is each path's own: the peak is reset before
    each of the first pair's runs."""
    import torch

    from isp_viewer.engine.host_memory import give_back_freed_memory, keep_freed_memory

    keep_freed_memory()   # as the app's entry point does, before any thread: both paths share it
    p = _prepare(case)
    cuda = case["device"] == "cuda"
    info: dict = {}
    runners = {path: _path_runner(path, case, p, info) for path in ("full", "engine")}
    for run in runners.values():
        run(p["warm"], p["warm_options"])
    seconds: dict[str, list[float]] = {"full": [], "engine": []}
    peaks: dict[str, dict] = {}
    outputs: dict[str, np.ndarray] = {}
    for i in range(max(1, case.get("repeat", 1))):
        for path in ("full", "engine") if i % 2 == 0 else ("engine", "full"):
            outputs.pop(path, None)
            first = path not in peaks
            if first:
                give_back_freed_memory()   # else the heap kept from the other path's run hides this one's peak
                peaks[path] = {"rss_before_mib": (status_kib("VmRSS") or 0) / 1024, "reset": reset_peak_rss()}
            if cuda:
                torch.cuda.synchronize()
                if first:
                    torch.cuda.reset_peak_memory_stats()
            t0 = time.perf_counter()
            outputs[path] = runners[path](p["x"], p["options"])
            if cuda:
                torch.cuda.synchronize()
            seconds[path].append(time.perf_counter() - t0)
            if first:
                peaks[path].update(peak_rss_mib=(status_kib("VmHWM") or 0) / 1024,
                                   cuda_peak_mib=torch.cuda.max_memory_allocated() / 1024 ** 2 if cuda else None)
    saved = {}
    for path, out in outputs.items():
        if case.get("save") and out.nbytes <= SAVE_LIMIT_BYTES:
            saved[path] = f"{case['save']}-{path}.npy"
            np.save(saved[path], out, allow_pickle=False)
    x = p["x"]
    out = outputs["full"]
    return {**info, "seconds": seconds, "peaks": peaks, "in_shape": list(x.shape[:2]),
            "out_shape": list(out.shape[:2]), "mp_in": x.shape[0] * x.shape[1] / 1e6,
            "saved": saved, "torch_threads": torch.get_num_threads()}


# --- the parent: cases, subprocesses, table --------------------------------------------------------


def _weights_for(spec, args) -> tuple[str, str]:
    """(weights argument for the case, label for the table)."""
    from isp_viewer.models.registry import find_weights

    if args.weights and spec.id == "srgan_leftthomas_x4":
        return str(args.weights), Path(args.weights).name
    if spec.id in REAL_WEIGHTS:
        found = find_weights(spec)
        if found is not None:
            return str(found), found.name
        candidate = args.shared / REAL_WEIGHTS[spec.id]
        if candidate.is_file():
            return str(candidate), candidate.name
    manifest = args.shared / "reference" / "manifests" / spec.manifest
    if spec.manifest and manifest.is_file():
        return "crc32", "crc32 fill"
    return "", "none"


def _run_subprocess(case: dict, timeout: float) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--case", json.dumps(case)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=str(REPO))
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        if proc.returncode < 0:
            tail = f"killed by signal {-proc.returncode} (out of memory?)"
        return {"error": tail[:120]}
    return json.loads(lines[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    parser.add_argument("--mp", type=float, default=None,
                        help="megapixels for tile-safe networks: input of scale-1 ones, output of "
                             "super-resolution (default 0.5 on CPU, 4 on GPU; 12 for >= 12 MP)")
    parser.add_argument("--whole-mp", type=float, default=None,
                        help="input megapixels for networks that run whole-frame (not tile-safe; the engine "
                             "runs them in one pass too) (default 0.03 on CPU, --mp on GPU)")
    parser.add_argument("--nets", default="", help="comma-separated ids (default: all but repeated variants)")
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--weights", type=Path, default=None, help="leftthomas SRGAN x4 checkpoint")
    parser.add_argument("--tile", type=int, default=None, help="engine tile side (default: the engine's)")
    parser.add_argument("--free-gib", type=float, default=None,
                        help="tell the engine this much memory is free (default: what the device has): "
                             "a small figure makes it tile, to measure what the seams cost")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved full/engine pairs per network")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per case")
    parser.add_argument("--case", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.case:
        print(json.dumps(run_case(json.loads(args.case))), flush=True)
        return 0

    import torch

    from isp_viewer.engine.devices import choose_device, probe_devices
    from isp_viewer.models.registry import all_specs

    device, why = choose_device(args.device, probe_devices())
    mp = args.mp if args.mp is not None else (0.5 if device == "cpu" else 4.0)
    whole_mp = args.whole_mp if args.whole_mp is not None else (min(mp, 0.03) if device == "cpu" else mp)
    wanted = [n for n in args.nets.split(",") if n]
    specs = [s for s in all_specs() if (s.id in wanted if wanted else s.id not in DEFAULT_SKIP)]
    precisions = ["fp32", "fp16"] if device != "cpu" else ["fp32"]
    print(f"device: {device} ({why}); torch {torch.__version__}, {os.cpu_count()} CPU cores; "
          f"tile-safe networks {mp:g} MP (SR: output), whole-frame ones {whole_mp:g} MP; "
          f"one subprocess per network, {args.repeat} interleaved full/engine pairs "
          f"(MP/s: the fastest run; engine/full: the median of the pairs' ratios)", flush=True)

    rows = []
    with tempfile.TemporaryDirectory(prefix="ispv-bench-") as tmp:
        for spec in specs:
            weights, label = _weights_for(spec, args)
            if not weights:
                rows.append({"net": spec.id, "weights": "none", "error": "no weights and no manifest"})
                continue
            for precision in precisions:
                case = {"net": spec.id, "device": device, "precision": precision,
                        "mp": mp if spec.tiling_safe else whole_mp,
                        "weights": weights, "shared": str(args.shared), "tile": args.tile, "repeat": args.repeat,
                        "free_gib": args.free_gib,
                        "save": str(Path(tmp) / f"{spec.id}-{precision}")}
                result = _run_subprocess(case, args.timeout)
                row = {"net": spec.id, "weights": label, "precision": precision, **_summarise(spec, result)}
                rows.append(row)
                print(_row_text(row), flush=True)
    print()
    print(_table(rows))
    return 0


def _summarise(spec, r: dict) -> dict:
    row: dict = {"tiling": "tiled" if spec.tiling_safe else "whole-frame"}
    if "error" in r:
        row["error"] = r["error"]
        return row
    for name in ("full", "engine"):
        best = min(r["seconds"][name])
        row[f"{name}_mps"] = r["mp_in"] / best
        row[f"{name}_s"] = best
        # Growth over the resident memory just before the run: the other path's network and
        # output are resident in this process too, so absolute peaks would not compare.
        row[f"{name}_rss"] = r["peaks"][name]["peak_rss_mib"] - r["peaks"][name]["rss_before_mib"]
        row[f"{name}_cuda"] = r["peaks"][name]["cuda_peak_mib"]
    row["size"] = f"{r['in_shape'][1]}x{r['in_shape'][0]}->{r['out_shape'][1]}x{r['out_shape'][0]}"
    # Each pair ran back to back, so its ratio is the fair one; the median of the pairs is reported
    # beside the spread.
    pairs = [f / e for f, e in zip(r["seconds"]["full"], r["seconds"]["engine"])]
    row["ratio"] = float(np.median(pairs))
    row["ratio_range"] = f"{min(pairs):.2f}-{max(pairs):.2f}"
    row["tiles"] = f"{r.get('tiles')}x{r.get('tile_size')}" if spec.tiling_safe else "1"
    row["notes"] = "; ".join(n for n in r.get("notes", []) if "whole-frame by design" not in n)
    if "frame" in spec.options:
        row["notes"] = "full = whole frame, engine = upstream block mode (512 px blocks); |diff| is theirs"
    saved = r.get("saved", {})
    if "full" in saved and "engine" in saved:
        a, b = np.load(saved["full"]), np.load(saved["engine"])
        row["diff"] = float(np.abs(a - b).max()) if a.shape == b.shape else float("nan")
    for file in saved.values():
        Path(file).unlink(missing_ok=True)
    return row


COLUMNS = [("net", "network", "{}"), ("weights", "weights", "{}"), ("precision", "prec", "{}"),
           ("size", "input->output", "{}"), ("tiles", "tiles", "{}"), ("full_mps", "full MP/s", "{:.3f}"),
           ("engine_mps", "engine MP/s", "{:.3f}"), ("ratio", "engine/full", "{:.2f}"),
           ("ratio_range", "pairs", "{}"),
           ("full_rss", "full RSS growth MiB", "{:.0f}"), ("engine_rss", "engine RSS growth MiB", "{:.0f}"),
           ("full_cuda", "full CUDA MiB", "{:.0f}"), ("engine_cuda", "engine CUDA MiB", "{:.0f}"),
           ("diff", "|diff|", "{:.1e}")]


def _cells(row: dict) -> list[str]:
    cells = []
    for key, _, fmt in COLUMNS:
        if key in row and row[key] is not None:
            cells.append(fmt.format(row[key]))
        elif key in ("full_mps", "engine_mps") and "error" in row:
            cells.append("failed")
        else:
            cells.append("-")
    return cells


def _row_text(row: dict) -> str:
    errors = "; ".join(f"{k}: {v}" for k, v in row.items() if k.endswith("error"))
    return " | ".join(_cells(row)) + (f"  [{errors}]" if errors else "") + (
        f"  ({row['notes']})" if row.get("notes") else "")


def _table(rows: list[dict]) -> str:
    header = [title for _, title, _ in COLUMNS]
    body = [_cells(r) for r in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(header)]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(b, widths)) + " |" for b in body]
    errors = [f"- {r['net']}: " + "; ".join(f"{k} {v}" for k, v in r.items() if k.endswith("error"))
              for r in rows if any(k.endswith("error") for k in r)]
    return "\n".join(lines + (["", "Failures:"] + errors if errors else []))


if __name__ == "__main__":
    sys.exit(main())
