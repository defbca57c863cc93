"""The deterministic weight fill of the reference fixtures ("crc32-lecun-v1").

Used by tests to prove a port against upstream outputs, and by benchmarks to run networks whose
official weights are not on this machine. See the reference GOLDEN.md for the rule.
"""

from __future__ import annotations

import json
import math
import zlib
from pathlib import Path
from typing import Any

import torch


def load_manifest(path: str | Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def manifest_shapes(manifest: dict[str, Any]) -> dict[str, tuple[tuple[int, ...], str]]:
    return {name: (tuple(shape), dtype) for name, shape, dtype, *_ in manifest["keys"]}


def _fill_value(name: str, shape: tuple[int, ...], gain: float) -> torch.Tensor:
    gen = torch.Generator().manual_seed(zlib.crc32(name.encode("utf-8")))
    z = torch.randn(shape, generator=gen, dtype=torch.float64)
    if len(shape) >= 2:
        return z * gain / math.sqrt(math.prod(shape[1:]))
    if name.endswith("running_var"):
        return 1 + 0.1 * z.abs()
    if name.endswith("running_mean"):
        return 0.1 * z
    if name.endswith("weight"):
        return 1 + 0.1 * z
    return 0.1 * z


def crc32_lecun_fill(manifest: dict[str, Any], gain: float = 1.0) -> dict[str, torch.Tensor]:
    """state_dict filled by the crc32-lecun-v1 rule, tied keys sharing their group's first value."""
    out: dict[str, torch.Tensor] = {}
    for name, shape, dtype, *_ in manifest["keys"]:
        torch_dtype = getattr(torch, dtype)
        shape = tuple(shape)
        if not torch_dtype.is_floating_point:
            out[name] = torch.zeros(shape, dtype=torch_dtype)
        else:
            out[name] = _fill_value(name, shape, gain).to(torch_dtype)
    for group in manifest.get("tied_key_groups", []):
        first = out[group[0]]
        for key in group[1:]:
            out[key] = first.clone()
    return out
