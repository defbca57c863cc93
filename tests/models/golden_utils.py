"""Helpers for manifest and golden-fixture tests of the network ports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from isp_viewer.models.golden import crc32_lecun_fill, load_manifest
from isp_viewer.models.loading import load_strict, read_checkpoint


def assert_state_dict_matches_manifest(module: nn.Module, manifest_path: Path) -> None:
    """Keys (in order), shapes and dtypes of module.state_dict() equal the manifest's."""
    manifest = load_manifest(manifest_path)
    got = [(k, list(v.shape), str(v.dtype).removeprefix("torch.")) for k, v in module.state_dict().items()]
    want = [(n, list(s), d) for n, s, d, *_ in manifest["keys"]]
    assert {k for k, *_ in got} == {k for k, *_ in want}, _diff(got, want)
    assert got == want
    # Tied keys must be one tensor (as upstream reuses one module).
    sd = module.state_dict()
    for group in manifest.get("tied_key_groups", []):
        ptrs = {sd[k].data_ptr() for k in group}
        assert len(ptrs) == 1, f"keys {group} should share one tensor"


def _diff(got, want) -> str:
    g, w = {k for k, *_ in got}, {k for k, *_ in want}
    return f"missing {sorted(w - g)[:8]} unexpected {sorted(g - w)[:8]}"


def load_fixture(reference: Path, fixture: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    meta = json.loads((reference / "golden" / f"{fixture}.json").read_text())
    with np.load(reference / "golden" / f"{fixture}.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    return meta, arrays


def fill_for_fixture(module: nn.Module, reference: Path, meta: dict[str, Any], shared: Path | None = None) -> nn.Module:
    """Load the fixture's weights into module strictly: the crc32 fill or a real weight file."""
    rule = meta["fill"]["rule"]
    if rule.startswith("real:"):
        fname = rule.split(":", 1)[1]
        root = reference.parent / "weights"
        path = next(root.rglob(fname))
        sd = read_checkpoint(path)
    else:
        manifest = load_manifest(reference / meta["manifest"])
        sd = crc32_lecun_fill(manifest, meta["fill"].get("weight_gain", 1.0))
    load_strict(module, sd, meta["manifest"])
    return module.eval().float()


def run_fixture(module: nn.Module, meta: dict[str, Any], arrays: dict[str, np.ndarray]):
    """Call the module as the fixture says; returns outputs as a tuple in the fixture's order."""
    args = [torch.from_numpy(arrays[f"in_{n}"]) for n in meta["positional_inputs"]]
    torch.manual_seed(0)
    with torch.no_grad():
        out = module(*args, **meta.get("keyword_args", {}))
    return out if isinstance(out, (tuple, list)) else (out,)


def assert_outputs_match(outputs, meta: dict[str, Any], arrays: dict[str, np.ndarray],
                         names: list[str] | None = None) -> None:
    atol = meta["tolerance"]["atol"]
    names = names or list(meta["outputs"].keys())
    for name, out in zip(names, outputs):
        want = arrays[f"out_{name}"]
        got = out.detach().cpu().numpy()
        assert got.shape == want.shape, f"{name}: shape {got.shape} != {want.shape}"
        err = float(np.max(np.abs(got - want)))
        assert err <= atol, f"{name}: max abs diff {err:.3g} > {atol}"
