"""How far one forward pass is, for a tile or frame that runs for a minute or more on a CPU (the
engine runs as large a tile as free memory allows: up to 10 MP of Bayer input, ~40 s here).

The engine's hooks on every module (engine/network_cache.py) call `before` as each module starts
and `after` as each leaf module ends. The share of the pass done when the n-th module starts is
the cost of the leaf calls before it over the cost of the whole pass. Those costs are learnt once
per loaded network, from a probe: at the first pass, the network's own input is cropped to 1/8 of
its side and run once more, and each leaf call's cost is taken from its shapes (`call_cost`). The
shares carry over to the full input, since a convolutional network's layers all scale with the
pixels; a probe costs about 1/64 of the first pass. Counting module calls instead, as an earlier
version did, ran far ahead for SR networks: their costly upsamplers come last (SRGAN x4: 90 % of
the calls in the first 30 % of the time).

Cost model, fitted on this machine's CPU against timed passes of demosaicnet, PyNET, PyNET-CA,
CycleISP, UHDFour and the SRGANs: a convolution costs its multiply-accumulates, with fewer than
16 output channels counted as 16 (kernels vectorise over output channels, so a 3-channel output
layer is no cheaper per channel than a 16-channel one); any other leaf module costs 64 per output
element (memory-bound: PixelShuffle, PReLU). bench/pass_progress.py measures the largest gap
between the reported and the timed share of a pass: 0.02-0.17 with this model, 0.07-0.68 when
counting calls; demosaicnet is the exception (0.16-0.24 against 0.13 by counting: its probe is
small beside its valid convolutions' shrink, and its full-resolution layers with few channels run
slower than their multiply-accumulates say). On a GPU the calls are launched ahead of the
kernels, so the bar runs ahead of the work there; GPU passes are short.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import torch
from torch import nn

CHANNEL_FLOOR = 16
ELEMENTWISE_COST = 64
PROBE_SHRINK = 8      # the probe's side: the input's over this ...
PROBE_MIN_SIDE = 64   # ... but no less (valid convolutions shrink it); inputs under twice this count calls


def call_cost(module: nn.Module, inputs: Sequence[Any], output: Any) -> int:
    """The cost of one leaf module call, in multiply-accumulates (see the module docstring)."""
    if not torch.is_tensor(output):
        return 0
    if isinstance(module, nn.modules.conv._ConvNd):
        kernel = 1
        for k in module.kernel_size:
            kernel *= k
        if module.transposed:   # every input element meets the whole kernel once per output channel
            source = inputs[0] if inputs and torch.is_tensor(inputs[0]) else output
            return source.numel() * kernel * module.out_channels // module.groups
        per_position = output.numel() // module.out_channels
        return per_position * max(module.out_channels, CHANNEL_FLOOR) * kernel * module.in_channels // module.groups
    if isinstance(module, nn.Linear):
        return output.numel() * module.in_features
    return output.numel() * ELEMENTWISE_COST


def _probe_input(args: Sequence[Any]) -> list[Any] | None:
    """The root call's arguments with every image tensor cropped to its top-left 1/8 (None: too small)."""
    cropped: list[Any] = []
    for arg in args:
        if torch.is_tensor(arg) and arg.ndim == 4:
            h, w = arg.shape[-2:]
            ph, pw = max(PROBE_MIN_SIDE, h // PROBE_SHRINK), max(PROBE_MIN_SIDE, w // PROBE_SHRINK)
            if 2 * ph > h or 2 * pw > w:
                return None
            arg = arg[..., :ph, :pw]
        cropped.append(arg)
    return cropped if any(torch.is_tensor(a) and a.ndim == 4 for a in cropped) else None


class PassProgress:
    """One job's progress within its passes: report(part) whenever another whole percent of the
    running pass is reached, never with 1.0 (the pass ends when infer returns)."""

    # per loaded network: the share done as each module call starts; () where a probe failed
    _profiles: ClassVar[weakref.WeakKeyDictionary[nn.Module, tuple[float, ...]]] = weakref.WeakKeyDictionary()
    _profiles_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, report: Callable[[float], None] | None = None) -> None:
        self.report = report
        self.probing = False
        self._net: nn.Module | None = None
        self._profile: tuple[float, ...] | None = None
        self._calls = self._percent = self._modules = 0
        self._probe_cost = 0
        self._probe_starts: list[int] = []

    def start(self, net: nn.Module) -> None:
        """A pass of `net` begins (once per tile)."""
        self._net, self._calls, self._percent, self._modules = net, 0, 0, 0
        with self._profiles_lock:
            self._profile = self._profiles.get(net)

    def finish(self) -> None:
        self._net = None

    def before(self, module: nn.Module, args: Sequence[Any]) -> None:
        """A module call starts (the forward pre-hook)."""
        if self.probing:
            self._probe_starts.append(self._probe_cost)
            return
        if self._net is None or self.report is None:
            return
        if self._calls == 0 and self._profile is None and module is self._net:
            self._profile = self._learn(module, args)
        self._calls += 1
        if self._profile:
            part = self._profile[min(self._calls, len(self._profile)) - 1]
        else:   # no probe: each module call (containers too) counts alike
            if not self._modules:
                self._modules = sum(1 for _ in self._net.modules())
            part = (self._calls - 1) / self._modules
        percent = min(99, int(100 * part))
        if percent > self._percent:
            self._percent = percent
            self.report(percent / 100)

    def after(self, module: nn.Module, args: Sequence[Any], output: Any) -> None:
        """A leaf module call ends (the forward hook)."""
        if self.probing:
            self._probe_cost += call_cost(module, args, output)

    def _learn(self, net: nn.Module, args: Sequence[Any]) -> tuple[float, ...] | None:
        small = _probe_input(args)
        if small is None:
            return None   # a small pass: count calls, try the probe again on a larger one
        self.probing, self._probe_cost, self._probe_starts = True, 0, []
        try:
            net(*small)
            profile = tuple(c / self._probe_cost for c in self._probe_starts) if self._probe_cost else ()
        except Exception:   # a network whose forward needs its full input: count calls from now on
            profile = ()
        finally:
            self.probing = False
        with self._profiles_lock:
            self._profiles[net] = profile
        return profile
