"""What a finished (or partly finished) matrix shows: cells for a table, the pivot with mean ±
std and 95 % confidence intervals, long CSV, LaTeX, per-image JSON, and each cell's worst regions.

Everything is read back from the store through the spec's keys, so a table always shows exactly
the current matrix (never stale rows of an earlier method value) and cells not computed yet are
absent (NaN in the MetricTable).
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass

from isp_viewer.matrix.cells import MatrixSpec
from isp_viewer.matrix.store import ResultStore, WorstRegion
from isp_viewer.metrics.table import DECIMALS, MetricTable


@dataclass(frozen=True)
class CellRow:
    """One stored cell: metric of method on image; task_key names its (image, method) run."""

    image: str
    method: str
    metric: str
    value: float
    key: str
    task_key: str


def list_cells(spec: MatrixSpec, store: ResultStore) -> list[CellRow]:
    """The stored cells of `spec`, images outermost then methods then metrics (the spec's order)."""
    tasks = spec.all_tasks()
    values = store.values([k for t in tasks for _, k in t.cells])
    return [CellRow(t.item.stem, t.method.label, metric, values[key], key, t.key)
            for t in tasks for metric, key in t.cells if key in values]


def cell_regions(spec: MatrixSpec, store: ResultStore, task_key: str) -> list[WorstRegion]:
    """The worst regions stored for a cell's (image, method) run, for every RegionSpec of the
    spec, each list worst first; Regions are on the reference image's pixel grid."""
    out: list[WorstRegion] = []
    for region_spec in spec.regions:
        out.extend(store.regions(spec.region_key(task_key, region_spec)))
    return out


def metric_table(spec: MatrixSpec, store: ResultStore) -> MetricTable:
    """methods x images x metrics in the spec's order (NaN where a cell is not stored)."""
    import numpy as np

    methods = [m.label for m in spec.methods]
    images = [i.stem for i in spec.items]
    vals = np.full((len(methods), len(images), len(spec.metrics)), np.nan)
    for row in list_cells(spec, store):
        vals[methods.index(row.method), images.index(row.image), spec.metrics.index(row.metric)] = row.value
    return MetricTable(spec.convention, tuple(methods), tuple(images), tuple(spec.metrics), vals)


@dataclass(frozen=True)
class PivotEntry:
    mean: float
    std: float
    n: int
    ci_low: float
    ci_high: float


def pivot(table: MetricTable) -> dict[str, dict[str, PivotEntry]]:
    """{method: {metric: mean, sample std, n, 95 % CI of the mean}}; the CI is Student-t
    (mean ± t(0.975, n-1) std / sqrt n), NaN for fewer than two images."""
    out: dict[str, dict[str, PivotEntry]] = {}
    for method in table.methods:
        out[method] = {}
        for metric in table.metrics:
            mean, std, n = table.mean(method, metric), table.std(method, metric), table.count(method, metric)
            half = t_quantile(n - 1) * std / math.sqrt(n) if n >= 2 and not math.isnan(std) else math.nan
            out[method][metric] = PivotEntry(mean, std, n, mean - half, mean + half)
    return out


def t_quantile(dof: int, level: float = 0.975) -> float:
    from scipy.stats import t

    return float(t.ppf(level, dof))


def pivot_text(table: MetricTable) -> str:
    """The pivot as aligned text, e.g. 'malvar  PSNR 33.71 ± 3.93 [30.43, 36.99]'."""
    piv = pivot(table)
    width = max(len(m) for m in table.methods)
    lines = [(f"# mean ± sample std [95 % CI of the mean] over {len(table.images)} images; "
              f"{table.convention.describe()}")]
    for method in table.methods:
        parts = []
        for metric in table.metrics:
            e, d = piv[method][metric], DECIMALS.get(metric, 4)
            ci = "" if math.isnan(e.ci_low) else f" [{e.ci_low:.{d}f}, {e.ci_high:.{d}f}]"
            std = "" if math.isnan(e.std) else f" ± {e.std:.{d}f}"
            parts.append(f"{metric} {e.mean:.{d}f}{std}{ci}")
        lines.append(f"{method:{width}}  " + "   ".join(parts))
    return "\n".join(lines) + "\n"


def long_csv(table: MetricTable) -> str:
    """One row per image x method x metric, each with the convention (empty value: not stored)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["image", "method", "metric", "value", "convention"])
    conv = table.convention.describe()
    for image in table.images:
        for method in table.methods:
            for metric in table.metrics:
                v = table.value(method, image, metric)
                writer.writerow([image, method, metric, "" if math.isnan(v) else repr(v), conv])
    return buf.getvalue()


def pivot_csv(table: MetricTable) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["method", "metric", "mean", "std", "n", "ci95_low", "ci95_high", "convention"])
    for method, entries in pivot(table).items():
        for metric, e in entries.items():
            writer.writerow([method, metric, *(_num(v) for v in (e.mean, e.std)), e.n, _num(e.ci_low),
                             _num(e.ci_high), table.convention.describe()])
    return buf.getvalue()


def per_image_json(spec: MatrixSpec, store: ResultStore) -> str:
    """{"convention", "images": {image: {method: {metric: value, "worst_regions": [...]}}}}; a
    non-finite value is null."""
    images: dict[str, dict] = {i.stem: {} for i in spec.items}
    tasks = {(t.item.stem, t.method.label): t.key for t in spec.all_tasks()}
    for row in list_cells(spec, store):
        entry = images[row.image].setdefault(row.method, {})
        entry[row.metric] = row.value if math.isfinite(row.value) else None
    for (image, method), key in tasks.items():
        regions = cell_regions(spec, store, key)
        if regions:
            images[image].setdefault(method, {})["worst_regions"] = [
                {"error": r.error, "rank": r.rank, "x": r.region.x, "y": r.region.y, "w": r.region.w,
                 "h": r.region.h, "value": r.value} for r in regions]
    doc = {"convention": spec.convention.describe(), "methods": [m.label for m in spec.methods],
           "metrics": list(spec.metrics), "images": images}
    return json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=False) + "\n"


def _num(v: float) -> str:
    return "" if math.isnan(v) else repr(float(v))
