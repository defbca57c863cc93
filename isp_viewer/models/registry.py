"""The one explicit list of networks, weight discovery, loading and checkpoint detection."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import torch
from torch import nn

from isp_viewer.core.errors import ModelError, WeightsError
from isp_viewer.models.loading import WEIGHT_SUFFIXES, load_strict, read_checkpoint, sha256_of_file
from isp_viewer.models.nets import cycleisp, demosaicnet, kokkinos, pynet, pynet_ca, sgnet, srgan, uhdfour
from isp_viewer.models.spec import ModelSpec

# One line per network module; each module lists its variants in SPECS.
NETWORK_MODULES = (demosaicnet, kokkinos, pynet, pynet_ca, cycleisp, sgnet, uhdfour, srgan)


@lru_cache(maxsize=1)
def _specs() -> dict[str, ModelSpec]:
    specs: dict[str, ModelSpec] = {}
    for module in NETWORK_MODULES:
        for spec in module.SPECS:
            if spec.id in specs:
                raise RuntimeError(f"duplicate network id {spec.id}")
            specs[spec.id] = spec
    return specs


def all_specs() -> list[ModelSpec]:
    return list(_specs().values())


def get_spec(model_id: str) -> ModelSpec:
    try:
        return _specs()[model_id]
    except KeyError:
        raise ModelError(f"unknown model {model_id!r}; `isp-viewer models` lists the ids") from None


def weights_dirs() -> list[Path]:
    """Where users drop checkpoints: $ISPV_WEIGHTS, ./weights, and the checkout's weights/."""
    dirs = []
    if env := os.environ.get("ISPV_WEIGHTS"):
        dirs.append(Path(env))
    dirs.append(Path.cwd() / "weights")
    dirs.append(Path(__file__).resolve().parents[2] / "weights")
    seen, out = set(), []
    for d in dirs:
        key = d.resolve()
        if key not in seen and d.is_dir():
            seen.add(key)
            out.append(d)
    return out


def packaged_weight(spec: ModelSpec) -> Path | None:
    """A checkpoint shipped inside an installed wheel ("demosaicnet:bayer.pth")."""
    if not spec.packaged_weights:
        return None
    package, name = spec.packaged_weights.split(":", 1)
    if package == "demosaicnet":
        return demosaicnet.packaged_weight_path(name)
    return None


def find_weights(spec: ModelSpec) -> Path | None:
    """The first checkpoint for spec found in the weights folders, else the packaged one."""
    names = [n for wf in spec.weights for n in wf.names]
    for folder in weights_dirs():
        for name in names:
            hits = sorted(folder.rglob(name))
            if hits:
                return hits[0]
    return packaged_weight(spec)


def expected_sha256(spec: ModelSpec, path: Path) -> str | None:
    for wf in spec.weights:
        if any(names_file(name, path) for name in wf.names) and wf.sha256:
            return wf.sha256
    return None


def names_file(name: str, path: Path) -> bool:
    """A published name is a file name or, where releases share one ("bayer/model_best.pth"),
    the end of a path."""
    return path.name == name or Path(path).as_posix().endswith("/" + name.lstrip("/"))


@dataclass(frozen=True)
class LoadedNetwork:
    spec: ModelSpec
    net: nn.Module
    weights_path: str
    weights_sha256: str
    companions: tuple[tuple[str, nn.Module], ...] = ()   # (infer keyword, loaded module)

    def infer_options(self) -> dict:
        return dict(self.companions)


def load_network(spec: ModelSpec, weights: str | Path | None = None) -> LoadedNetwork:
    """Build spec's module and load its checkpoint strictly (user file, weights/, or packaged)."""
    path = Path(weights) if weights else find_weights(spec)
    if path is None:
        names = ", ".join(n for wf in spec.weights for n in wf.names) or "none published"
        raise WeightsError(f"{spec.id}: no weights found; put {names} in weights/ or pass --weights FILE")
    state = read_checkpoint(path)
    net = spec.build()
    load_strict(net, state, path.name)
    companions = []
    for comp in spec.companions:
        comp_path = _find_named(comp.weights.names, near=path)
        if comp_path is None:
            raise WeightsError(f"{spec.id}: also needs {' or '.join(comp.weights.names)} ({comp.weights.note}) "
                               f"beside {path.name} or in weights/")
        module = comp.build()
        load_strict(module, read_checkpoint(comp_path), comp_path.name)
        companions.append((comp.option, module.eval()))
    return LoadedNetwork(spec, net.eval(), str(path), sha256_of_file(path), tuple(companions))


def _find_named(names: tuple[str, ...], near: Path) -> Path | None:
    for folder in [near.parent, *weights_dirs()]:
        for name in names:
            hits = sorted(folder.rglob(name)) if folder != near.parent else [folder / name]
            hits = [h for h in hits if h.is_file()]
            if hits:
                return hits[0]
    return None


@cache
def _shapes(model_id: str) -> dict[str, tuple[int, ...]]:
    with torch.device("meta"):
        net = get_spec(model_id).build()
    return {k: tuple(v.shape) for k, v in net.state_dict().items()}


def detect_checkpoint(path: str | Path) -> list[ModelSpec]:
    """Networks whose state_dict keys and shapes equal the checkpoint's (safe loading)."""
    path = Path(path)
    if path.is_file() and not path.name.lower().endswith(WEIGHT_SUFFIXES):
        raise WeightsError(f"{path.name}: not a checkpoint file ({', '.join(WEIGHT_SUFFIXES)})")
    state = read_checkpoint(path)
    got = {k: tuple(v.shape) for k, v in state.items() if not k.endswith("num_batches_tracked")}
    matches = []
    for spec in all_specs():
        want = {k: s for k, s in _shapes(spec.id).items() if not k.endswith("num_batches_tracked")}
        if want == got:
            matches.append(spec)
    if len(matches) > 1 and path.is_file():   # variants with one architecture: the published hash decides
        digest = sha256_of_file(path)
        known = [s for s in matches if digest in {wf.sha256 for wf in s.weights}]
        matches = known or matches
    return matches
