"""Loaded networks for the engine: a small LRU per (spec, weights, device, dtype), each network
with forward pre-hooks through which a running job is cancelled between layers."""

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


# --- cancellation inside a forward pass -------------------------------------------------------

current_job = threading.local()   # .check: the running job's cancel check, per worker thread


def _cancel_hook(module: nn.Module, args: Any) -> None:
    check = getattr(current_job, "check", None)
    if check is not None:
        check()


def _install_cancel_hooks(net: nn.Module) -> None:
    # Permanent hooks that only act in a worker thread running a job: hooks are never added or
    # removed while another thread may be iterating over them in a forward pass.
    for module in net.modules():
        module.register_forward_pre_hook(_cancel_hook)


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
        _install_cancel_hooks(net)
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
