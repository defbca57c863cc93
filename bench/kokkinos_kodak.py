"""Kokkinos MMNet on the Kodak images of ../shared against upstream's figures (reference refs.json).

Run: ISPV_WEIGHTS=../shared/weights .venv/bin/python bench/kokkinos_kodak.py [--shared ../shared]
         [--phases RGGB,GRBG,BGGR,GBRG] [--xtrans-side 256] [--images kodim01,kodim19] [--out results.json]

Bayer: the same path as `isp-viewer eval --simulate-cfa P --model kokkinos_bayer` (metrics.evaluation's
load_pair + run_step), scored RGB, float output, range 1, 8 px border crop (refs.json's psnr_crop8).
X-Trans: a simulated mosaic of upstream's 6x6 cell (true colours) of the top-left crop, run with
both labellings. Results go to --out as they arrive (heavy: about a minute per image and phase).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> int:
    import numpy as np
    import torch

    from isp_viewer.io.images import mosaic_from_rgb, read_image
    from isp_viewer.metrics.convention import Convention
    from isp_viewer.metrics.evaluation import load_pair, run_step
    from isp_viewer.metrics.fidelity import psnr
    from isp_viewer.models.nets import kokkinos_cfa
    from isp_viewer.models.registry import get_spec, load_network

    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(REPO.parent / "shared"))
    ap.add_argument("--phases", default="RGGB,GRBG,BGGR,GBRG")
    ap.add_argument("--images", default="")
    ap.add_argument("--xtrans-side", type=int, default=256, help="side of the X-Trans crop (0: skip X-Trans)")
    ap.add_argument("--out", default="kokkinos_kodak.json")
    args = ap.parse_args()
    torch.set_flush_denormal(True)   # same output, several times faster on some content (FACTS.md §7)
    shared = Path(args.shared)
    refs = json.loads((shared / "reference/kokkinos/refs.json").read_text())["per_image"]
    folder = shared / "data/paired/kodak24"
    names = [n for n in refs if not args.images or Path(n).stem in args.images.split(",")]
    conv = Convention(channel="rgb", data_range=1.0, crop_border=8, quantize_uint8=False, name="crop 8")
    results: dict = {"convention": "RGB, float output, range 1, 8 px border crop", "bayer": {}, "xtrans": {}}
    loaded: dict = {}

    def save() -> None:
        Path(args.out).write_text(json.dumps(results, indent=1))

    for phase in args.phases.split(","):
        for name in names:
            t0 = time.perf_counter()
            reference, source = load_pair(folder / name, folder / name, phase)
            out = run_step(("network", "kokkinos_bayer"), source, reference, loaded)
            got = psnr(out.rgb(), reference.rgb()[:out.height, :out.width], conv)
            want = refs[name]["bayer"]["psnr_crop8"]
            results["bayer"].setdefault(phase, {})[name] = {"psnr": got, "upstream": want, "diff": got - want,
                                                            "seconds": time.perf_counter() - t0}
            print(f"{phase} {name}: {got:.3f} dB (upstream {want:.3f}, diff {got - want:+.3f}) "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)
            save()
        if args.xtrans_side and phase == args.phases.split(",")[0]:
            spec = get_spec("kokkinos_xtrans")
            net = load_network(spec).net
            for name in names:
                side = args.xtrans_side
                rgb = read_image(folder / name).rgb()[:side, :side]
                mosaic = mosaic_from_rgb(rgb, kokkinos_cfa.XTRANS_LAYOUT)
                row = {}
                for labelling in ("literal", "swapped"):
                    out = spec.infer(net, mosaic, cfa=kokkinos_cfa.XTRANS_LAYOUT, labelling=labelling, frame="whole")
                    row[labelling] = psnr(out, rgb, conv)
                results["xtrans"][name] = row
                print(f"xtrans {name} {side}x{side}: literal {row['literal']:.2f} dB, swapped {row['swapped']:.2f} dB",
                      flush=True)
                save()
    for phase, rows in results["bayer"].items():
        mean = float(np.mean([r["psnr"] for r in rows.values()]))
        print(f"{phase}: mean {mean:.3f} dB over {len(rows)} images; max |diff| vs upstream RGGB "
              f"{max(abs(r['diff']) for r in rows.values()):.3f} dB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
