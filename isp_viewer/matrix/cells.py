"""What a matrix is made of: data items x methods x metrics, and the content keys of its cells.

A cell is one number: metric m of method M on image i. Its key is the sha256 of everything the
number depends on — the input and reference files' bytes and the simulation protocol, the method
value (network id + weights sha256 + options + precision + tiling, or the classical algorithm),
the metric with its convention, and the engine/matrix versions — and of nothing else (not the
file names, not the machine), so a store answers "is this number known?" across runs, renames
and machines. One method run on one image (a Task) yields all of that pair's cells and its
worst regions at once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from isp_viewer.core.errors import InputError
from isp_viewer.metrics.convention import Convention

# Bump when the way a cell's value is computed changes (alignment, metric code, region search).
MATRIX_VERSION = "1"
REGION_ERRORS = ("absolute", "ssim")


def digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@dataclass(frozen=True)
class Item:
    """One image of the data set: its name, its two files and their sha256, and the protocol
    that turns the input file into what the methods see (simulated CFA, bicubic downscale)."""

    stem: str
    input_path: str
    ref_path: str
    input_sha256: str
    ref_sha256: str
    simulate_cfa: str | None = None
    downscale: int = 0

    def value(self) -> dict:
        return {"input": self.input_sha256, "ref": self.ref_sha256, "cfa": self.simulate_cfa or "",
                "downscale": int(self.downscale)}


@dataclass(frozen=True)
class Method:
    """A method value. kind "classical": name is the algorithm (bilinear, malvar, menon);
    kind "network": name is the registry id, with weights (None: the registry's), the weights'
    sha256 (filled by `resolve`), infer options, precision and the tile side the engine uses
    (fixed, so a GPU and a CPU machine run the same tiles). label: the table's column name."""

    kind: str
    name: str
    weights: str | None = None
    weights_sha256: str = ""
    options: tuple[tuple[str, Any], ...] = ()
    precision: str = "fp32"
    tile_size: int | None = 512
    label: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("classical", "network"):
            raise InputError(f"unknown method kind {self.kind!r} (classical or network)")
        object.__setattr__(self, "options", tuple(sorted((str(k), v) for k, v in dict(self.options).items())))
        if not self.label:
            object.__setattr__(self, "label", self.name)

    def value(self) -> dict:
        if self.kind == "classical":
            return {"kind": "classical", "algorithm": self.name}
        from isp_viewer.engine.jobs import fingerprint

        return {"kind": "network", "model": self.name, "weights_sha256": self.weights_sha256,
                "options": [[k, fingerprint(v)] for k, v in self.options], "precision": self.precision,
                "tile": self.tile_size}

    def resolve(self) -> Method:
        """With the weights file found and its sha256 filled in (WeightsError when none exists)."""
        if self.kind != "network" or self.weights_sha256:
            return self
        from isp_viewer.core.errors import WeightsError
        from isp_viewer.models.loading import sha256_of_file
        from isp_viewer.models.registry import find_weights, get_spec

        spec = get_spec(self.name)
        path = Path(self.weights) if self.weights else find_weights(spec)
        if path is None or not path.is_file():
            raise WeightsError(f"{self.name}: no weights found; put them in weights/ or pass a file")
        return Method(self.kind, self.name, str(path), sha256_of_file(path), self.options, self.precision,
                      self.tile_size, self.label)


@dataclass(frozen=True)
class RegionSpec:
    """Worst regions: the k windows of side `window` (reference-grid pixels) with the largest
    mean `error` ("absolute": mean |test - ref| over channels; "ssim": mean 1 - local SSIM)."""

    error: str = "absolute"
    window: int = 64
    k: int = 8

    def __post_init__(self) -> None:
        if self.error not in REGION_ERRORS:
            raise InputError(f"worst regions by {self.error!r}: choose from {', '.join(REGION_ERRORS)}")
        if self.window < 4 or self.k < 1:
            raise InputError(f"worst regions need a window of at least 4 px and k >= 1 (got {self.window}, {self.k})")

    def value(self) -> dict:
        return {"error": self.error, "window": self.window, "k": self.k}


def convention_value(conv: Convention) -> dict:
    """Every Convention setting a value depends on (its display name is not one). Settings added
    to Convention later count where they differ from their default, so stores written before such
    a field existed keep their keys."""
    value = {"channel": conv.channel, "data_range": repr(float(conv.data_range)),
             "crop_border": conv.crop_border, "quantize_uint8": conv.quantize_uint8}
    for f in dataclasses.fields(conv):
        if f.name not in value and f.name != "name" and getattr(conv, f.name) != f.default:
            value[f.name] = getattr(conv, f.name)
    return value


@dataclass(frozen=True)
class Task:
    """One method on one item: the cells (metric -> key) and region sets (RegionSpec -> key)
    still missing from the store when the run was planned."""

    key: str
    item: Item
    method: Method
    convention: Convention
    cells: tuple[tuple[str, str], ...]
    regions: tuple[tuple[RegionSpec, str], ...] = ()


@dataclass(frozen=True)
class MatrixSpec:
    """items x methods x metrics under one convention, with the worst-region searches wanted."""

    items: tuple[Item, ...]
    methods: tuple[Method, ...]
    metrics: tuple[str, ...] = ("PSNR", "SSIM")
    convention: Convention = field(default_factory=Convention)
    regions: tuple[RegionSpec, ...] = ()

    def __post_init__(self) -> None:
        labels = [m.label for m in self.methods]
        dupes = sorted({x for x in labels if labels.count(x) > 1})
        if dupes:
            raise InputError(f"methods named twice: {', '.join(dupes)}")
        if not self.items or not self.methods or not self.metrics:
            raise InputError("a matrix needs at least one image, one method and one metric")

    def engine_version(self, method: Method) -> str:
        if method.kind != "network":
            return f"matrix {MATRIX_VERSION}"
        from isp_viewer.engine.engine import ENGINE_VERSION

        return f"matrix {MATRIX_VERSION}; engine {ENGINE_VERSION}"

    def task_key(self, item: Item, method: Method) -> str:
        return digest({"item": item.value(), "method": method.value(), "version": self.engine_version(method)})

    def cell_key(self, task_key: str, metric: str) -> str:
        return digest({"task": task_key, "metric": metric, "convention": convention_value(self.convention)})

    def region_key(self, task_key: str, spec: RegionSpec) -> str:
        return digest({"task": task_key, "regions": spec.value()})

    def all_tasks(self) -> list[Task]:
        """Every (item, method) task with all its cells and region sets, items outermost."""
        tasks = []
        for item in self.items:
            for method in self.methods:
                key = self.task_key(item, method)
                tasks.append(Task(key, item, method, self.convention,
                                  tuple((m, self.cell_key(key, m)) for m in self.metrics),
                                  tuple((r, self.region_key(key, r)) for r in self.regions)))
        return tasks


def items_from_pairs(pairs: Sequence[tuple[str, Path, Path]], simulate_cfa: str | None = None,
                     downscale: int = 0) -> tuple[Item, ...]:
    """Items of `match_by_name` pairs, with their files' sha256 (the content half of the keys)."""
    from isp_viewer.models.loading import sha256_of_file

    return tuple(Item(stem, str(i), str(r), sha256_of_file(i), sha256_of_file(r), simulate_cfa, int(downscale or 0))
                 for stem, i, r in pairs)


def network_method(model_id: str, *, weights: str | None = None, options: Mapping[str, Any] | None = None,
                   precision: str = "fp32", tile_size: int | None = 512, label: str = "") -> Method:
    return Method("network", model_id, weights, "", tuple((options or {}).items()), precision, tile_size,
                  label).resolve()
