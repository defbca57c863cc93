"""Loaded networks for the engine: a small LRU per (spec, weights, device, dtype), each network
with hooks through which a running job is cancelled between layers and reports how far into a
pass it is (engine/pass_progress.py)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from isp_viewer.core.errors import ModelError
from isp_viewer.engine.devices import dtype_name, release_memory
from isp_viewer.models.spec import ModelSpec

NetworkLoader = Callable[[ModelSpec, "str | None"], nn.Module]


def default_network_loader(spec: ModelSpec, weights: str | None) -> nn.Module:
    from isp_viewer.models.registry import load_network

    return load_network(spec, weights).net


def default_spec_lookup(spec_id: str) -> ModelSpec:
    from isp_viewer.models.registry import get_spec

    return get_spec(spec_id)


# --- cancellation and progress inside a forward pass -----------------------------------------

# Per worker thread: .check, the running job's cancel check; .progress, its PassProgress.
current_job = threading.local()


def _before_module(module: nn.Module, args: Any) -> None:
    progress = getattr(current_job, "progress", None)
    if progress is not None and progress.probing:   # the cost probe's short pass is not cancelled
        progress.before(module, args)
        return
    check = getattr(current_job, "check", None)
    if check is not None:
        check()
    if progress is not None:
        progress.before(module, args)


def _after_leaf(module: nn.Module, args: Any, output: Any) -> None:
    progress = getattr(current_job, "progress", None)
    if progress is not None:
        progress.after(module, args, output)


def _install_hooks(net: nn.Module) -> None:
    # Permanent hooks that only act in a worker thread running a job: hooks are never added or
    # removed while another thread may be iterating over them in a forward pass.
    for module in net.modules():
        module.register_forward_pre_hook(_before_module)
        if next(module.children(), None) is None:
            module.register_forward_hook(_after_leaf)


class NetworkCache:
    """A few loaded networks, least recently used evicted first."""

    def __init__(self, loader: NetworkLoader, maxsize: int) -> None:
        self._loader, self._maxsize = loader, max(1, maxsize)
        self._nets: OrderedDict[tuple, nn.Module] = OrderedDict()
        self._lock = threading.Lock()
        self.loads = 0

    def get(self, spec: ModelSpec, weights: str | None, sha256: str, device: str, dtype: torch.dtype) -> nn.Module:
        key = (spec.id, weights, sha256, device, dtype_name(dtype))
        with self._lock:
            if key in self._nets:
                self._nets.move_to_end(key)
                return self._nets[key]
        net = self._loader(spec, weights)  # outside the lock: loading can take seconds
        if not isinstance(net, nn.Module):
            raise ModelError(f"{spec.id}: the network loader returned {type(net).__name__}, not a torch module")
        net.eval()
        _install_hooks(net)
        evicted = []
        with self._lock:
            self.loads += 1
            net = self._nets.setdefault(key, net)
            self._nets.move_to_end(key)
            while len(self._nets) > self._maxsize:
                evicted.append(self._nets.popitem(last=False))
        for (_, _, _, old_device, _), _ in evicted:
            release_memory(old_device)
        return net

    def clear(self) -> None:
        with self._lock:
            self._nets.clear()
