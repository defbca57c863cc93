"""`isp-viewer eval`: the matrix of a folder pair, resumed from its store, written as tables."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from isp_viewer.core.errors import InputError

DEFAULT_STORE_NAME = ".isp-viewer-matrix.db"


def default_store(inputs: str | Path, out: Path) -> Path:
    """Next to the data set (inside the inputs folder); beside --out when that folder is read-only."""
    folder = Path(inputs)
    # A folder without write bits counts as read-only even for root, who could write anyway.
    if folder.is_dir() and os.access(folder, os.W_OK) and folder.stat().st_mode & 0o222:
        return folder / DEFAULT_STORE_NAME
    return out.parent / f"{folder.name}{DEFAULT_STORE_NAME}"


def metric_names(text: str) -> tuple[str, ...]:
    """--metrics psnr,de2000 -> catalogue names (look-ups ignore case and know its aliases)."""
    from isp_viewer.metrics.catalogue import resolve

    try:
        return resolve(text)
    except InputError as err:
        raise InputError(f"--metrics: {err}") from None


def region_specs(text: str, window: int, k: int):
    from isp_viewer.matrix.cells import RegionSpec

    words = [w.strip().lower() for w in text.split(",") if w.strip()]
    if words == ["none"]:
        return ()
    return tuple(RegionSpec(w, window, k) for w in dict.fromkeys(words))


def run_eval(args: argparse.Namespace, convention, network_options: dict) -> int:
    from isp_viewer.matrix.recipe import recipe_spec
    from isp_viewer.matrix.report import long_csv, metric_table, per_image_json, pivot_csv, pivot_text
    from isp_viewer.matrix.runner import LocalBackend, run_matrix
    from isp_viewer.matrix.store import ResultStore
    from isp_viewer.metrics import match_by_name

    recipe = [("classical", a) for a in args.classical] + [("network", m) for m in args.model]
    if not recipe:
        raise InputError("name at least one --model or --classical method")
    if args.tile is not None and args.tile < 64:
        raise InputError(f"--tile must be at least 64 px, not {args.tile}")
    out = Path(args.out)
    pairs = match_by_name(args.inputs, args.refs)
    spec = recipe_spec(pairs, recipe, convention, simulate_cfa=args.simulate_cfa, downscale=args.downscale,
                       options=network_options, metrics=metric_names(args.metrics),
                       regions=region_specs(args.worst, args.window, args.top_k), tile_size=args.tile)
    store_path = Path(args.store) if args.store else default_store(args.inputs, out)
    if args.ray:
        from isp_viewer.matrix.ray_backend import RayBackend

        backend = RayBackend(args.ray)
    else:
        backend = LocalBackend(args.device)
    with ResultStore(store_path) as store:
        if args.merge:
            added = store.merge(args.merge)
            print(f"merged {', '.join(args.merge)}: {added['cells']} cells, {added['tasks']} runs new", file=sys.stderr)
        try:
            summary = run_matrix(spec, store, backend, progress=lambda p: print(
                f"{p.done} / {p.to_compute} runs ({p.last.image} / {p.last.method}, {p.last.seconds:.2f} s)",
                file=sys.stderr))
        finally:
            backend.close()
        table = metric_table(spec, store)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(table.to_csv())
        out.with_suffix(".tex").write_text(table.to_latex())
        out.with_suffix(".long.csv").write_text(long_csv(table))
        out.with_suffix(".pivot.csv").write_text(pivot_csv(table))
        out.with_suffix(".json").write_text(per_image_json(spec, store))
    print(f"{out}  ({len(table.images)} images; {convention.describe()})")
    print(pivot_text(table), end="")
    reused = summary.total_tasks - len(summary.computed)
    print(f"# {summary.cells_total} cells in {summary.total_tasks} runs (image x method): {len(summary.computed)} "
          f"runs computed on {summary.backend} in {summary.seconds:.1f} s, {reused} read from {store_path}",
          file=sys.stderr)
    return 0
