"""The data-set matrix, cold then resumed, locally and on a local Ray instance.

    .venv/bin/python bench/matrix.py [--data ../shared/data/paired/kodak24] [--ray-cpus 2]

Four methods (bilinear, Malvar, Menon, demosaicnet) on the 8 Kodak images under GRBG simulation:
prints cells/s of each cold run, the resumed run's time as a fraction of the cold one, Ray's
start-up and its run time as a ratio of the local run's, all measured in this one run, and checks
that both backends stored the same table.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

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

REPO = Path(__file__).resolve().parents[1]


def spec_for(folder: Path) -> MatrixSpec:
    methods = (Method("classical", "bilinear"), Method("classical", "malvar"), Method("classical", "menon"),
               network_method("demosaicnet_bayer"))
    return MatrixSpec(items_from_pairs(match_by_name(folder, folder), "GRBG"), methods, ("PSNR", "SSIM"),
                      ISP_PAPER, (RegionSpec("absolute", 64, 8),))


def cold_and_resumed(folder: Path, db: Path, backend) -> tuple[float, float, object]:
    """(cold seconds, resumed seconds, table); each run plans from scratch: the files are hashed
    again (the in-process sha256 memo is cleared) and the store is reopened."""
    from isp_viewer.models.loading import _sha256_cached

    times = []
    for _ in range(2):
        _sha256_cached.cache_clear()
        t0 = time.perf_counter()
        spec = spec_for(folder)
        with ResultStore(db) as store:
            summary = run_matrix(spec, store, backend)
            table = metric_table(spec, store)
        times.append(time.perf_counter() - t0)
    assert summary.computed == (), "the resumed run recomputed cells"
    return times[0], times[1], table


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
            l_cold, l_resumed, l_table = cold_and_resumed(Path(args.data), Path(tmp) / "local.db", local)
        finally:
            local.close()
        print(f"local: cold {l_cold:.2f} s = {cells / l_cold:.1f} cells/s; resumed {l_resumed * 1000:.1f} ms "
              f"= {l_resumed / l_cold:.1e} x cold")
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
            r_cold, r_resumed, r_table = cold_and_resumed(Path(args.data), Path(tmp) / "ray.db", backend)
        finally:
            backend.close()
            ray.shutdown()
        print(f"ray ({actors} actor(s), {args.ray_cpus} CPUs): start-up {startup:.2f} s; cold "
              f"{r_cold:.2f} s = {cells / r_cold:.1f} cells/s; resumed {r_resumed * 1000:.1f} ms "
              f"= {r_resumed / r_cold:.1e} x cold")
        print(f"ray / local, cold run: {r_cold / l_cold:.2f} (with start-up {(r_cold + startup) / l_cold:.2f})")
        same = (l_table.values == r_table.values).all()
        mean = l_table.mean("demosaicnet_bayer", "PSNR")
        print(f"tables identical: {bool(same)}; demosaicnet PSNR mean {mean:.2f} dB")
        return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
