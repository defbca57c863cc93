"""From the CLI's and the window's words (a recipe of steps, name-matched pairs) to a MatrixSpec,
and `evaluate_recipe`: a whole recipe over a data set as one MetricTable, through the matrix."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from isp_viewer.core.errors import InputError
from isp_viewer.matrix.cells import MatrixSpec, Method, RegionSpec, items_from_pairs, network_method
from isp_viewer.matrix.report import metric_table
from isp_viewer.matrix.runner import Backend, CancelLike, run_matrix
from isp_viewer.matrix.store import ResultStore
from isp_viewer.metrics.convention import Convention
from isp_viewer.metrics.table import MetricTable

Recipe = Sequence[tuple[str, str]]   # ("classical", "malvar") or ("network", "demosaicnet_bayer")


def recipe_methods(recipe: Recipe, options: dict | None = None, weights: dict[str, str] | None = None,
                   tile_size: int | None = 512) -> tuple[Method, ...]:
    """Method values of recipe steps; `options` (e.g. noise_sigma) go to the networks whose
    descriptor has them and show in their label, as `isp-viewer process` labels them."""
    from isp_viewer.metrics.evaluation import options_for, step_label

    methods = []
    for kind, name in recipe:
        if kind == "classical":
            methods.append(Method("classical", name))
        elif kind == "network":
            from isp_viewer.models.registry import get_spec

            methods.append(network_method(name, weights=(weights or {}).get(name),
                                          options=options_for(get_spec(name), options),
                                          tile_size=tile_size, label=step_label((kind, name), options)))
        else:
            raise InputError(f"unknown recipe step kind {kind!r}")
    return tuple(methods)


def recipe_spec(pairs: Sequence[tuple[str, Path, Path]], recipe: Recipe, conv: Convention, *,
                simulate_cfa: str | None = None, downscale: int = 0, options: dict | None = None,
                metrics: Sequence[str] = ("PSNR", "SSIM"), regions: Sequence[RegionSpec] = (),
                tile_size: int | None = 512) -> MatrixSpec:
    return MatrixSpec(items_from_pairs(pairs, simulate_cfa, downscale), recipe_methods(recipe, options,
                      tile_size=tile_size), tuple(metrics), conv, tuple(regions))


def evaluate_recipe(pairs: Sequence[tuple[str, Path, Path]], recipe: Recipe, conv: Convention, *,
                    simulate_cfa: str | None = None, downscale: int = 0,
                    progress: Callable[[int, int], None] | None = None, cancel: CancelLike = None,
                    options: dict | None = None, store: str | Path | None = None,
                    backend: Backend | None = None) -> MetricTable:
    """Every recipe method on every (stem, input, reference) pair, scored under `conv`.

    store: a results file to resume from and fill (None: kept in memory for this call only).
    progress(done, total) counts the (image, method) runs computed in this call.
    """
    spec = recipe_spec(pairs, recipe, conv, simulate_cfa=simulate_cfa, downscale=downscale, options=options)
    with ResultStore(store if store is not None else ":memory:") as db:
        run_matrix(spec, db, backend, cancel=cancel,
                   progress=None if progress is None else (lambda p: progress(p.done, p.to_compute)))
        return metric_table(spec, db)
