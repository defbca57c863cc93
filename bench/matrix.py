"""The data-set matrix, cold then resumed, locally and on a local Ray instance.

    .venv/bin/python bench/matrix.py [--data ../shared/data/paired/kodak24] [--ray-cpus 2]

Four methods (bilinear, Malvar, Menon, demosaicnet) on the 8 Kodak images under GRBG simulation:
prints cells/s of each cold run, the resumed run's time as a fraction of the cold one, Ray's
start-up and its run time as a ratio of the local run's, all measured in this one run, and checks
that both backends stored the same table.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from isp_viewer.matrix import (
    LocalBackend,
    MatrixSpec,
    Method,
    RegionSpec,
    ResultStore,
    items_from_pairs,
    metric_table,
    network_method,
    run_matrix,
)
from isp_viewer.metrics import ISP_PAPER, match_by_name


def spec_for(folder: Path) -> MatrixSpec:
    methods = (Method("classical", "bilinear"), Method("classical", "malvar"), Method("classical", "menon"),
               network_method("demosaicnet_bayer"))
    return MatrixSpec(items_from_pairs(match_by_name(folder, folder), "GRBG"), methods, ("PSNR", "SSIM"),
                      ISP_PAPER, (RegionSpec("absolute", 64, 8),))


def cold_and_resumed(spec: MatrixSpec, db: Path, backend) -> tuple[float, float, object]:
    with ResultStore(db) as store:
        cold = run_matrix(spec, store, backend)
        resumed = run_matrix(spec, store, backend)
        assert resumed.computed == (), "the resumed run recomputed cells"
        return cold.seconds, resumed.seconds, metric_table(spec, store)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(REPO.parent / "shared/data/paired/kodak24"))
    ap.add_argument("--ray-cpus", type=int, default=2)
    args = ap.parse_args()
    spec = spec_for(Path(args.data))
    cells = len(spec.items) * len(spec.methods) * len(spec.metrics)
    print(f"# {len(spec.items)} images x {len(spec.methods)} methods x {len(spec.metrics)} metrics = {cells} cells, "
          f"worst 8 regions of 64 px per run")
    with tempfile.TemporaryDirectory() as tmp:
        local = LocalBackend("cpu")
        try:
            l_cold, l_resumed, l_table = cold_and_resumed(spec, Path(tmp) / "local.db", local)
        finally:
            local.close()
        print(f"local: cold {l_cold:.2f} s = {cells / l_cold:.1f} cells/s; resumed {l_resumed * 1000:.1f} ms "
              f"= {l_resumed / l_cold:.4f} x cold")
        try:
            import ray
        except ImportError:
            print("ray: not installed (pip install 'isp-viewer[ray]'); skipped")
            return 0
        from isp_viewer.matrix.ray_backend import RayBackend

        t0 = time.perf_counter()
        ray.init(num_cpus=args.ray_cpus, include_dashboard=False, logging_level="ERROR")
        backend = RayBackend("auto")
        startup = time.perf_counter() - t0
        actors = len(backend.actors)
        try:
            r_cold, r_resumed, r_table = cold_and_resumed(spec, Path(tmp) / "ray.db", backend)
        finally:
            backend.close()
            ray.shutdown()
        print(f"ray ({actors} actor(s), {args.ray_cpus} CPUs): start-up {startup:.2f} s; cold "
              f"{r_cold:.2f} s = {cells / r_cold:.1f} cells/s; resumed {r_resumed * 1000:.1f} ms "
              f"= {r_resumed / r_cold:.4f} x cold")
        print(f"ray / local, cold run: {r_cold / l_cold:.2f} (with start-up {(r_cold + startup) / l_cold:.2f})")
        same = (l_table.values == r_table.values).all()
        print(f"tables identical: {bool(same)}; demosaicnet PSNR mean {l_table.mean('demosaicnet_bayer', 'PSNR'):.2f} dB")
        return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
