"""The one way a caller outside the window's model panel runs a network: `run_through_engine`.

The CLI (`process`), the export/session provider, the window's Methods menu and dataset
evaluation call `run_through_engine(spec, weights, source, ...)`: it loads the network strictly
(with its companions), prepares the input with the descriptor's convention, submits one engine
job (tiled where the descriptor allows, cancellable, cached on disk, tiles halved on
out-of-memory), waits for it and returns a finished `Image` on the reference grid.
`models.adapters.run_network` stays only as the full-frame reference that tests and bench/
compare the engine against.

Qt-free; torch is loaded when a network runs, not when this module is imported.
"""

from __future__ import annotations

import threading
import weakref
from concurrent.futures import CancelledError, Future, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from isp_viewer.core.image import Image
    from isp_viewer.engine.engine import Engine
    from isp_viewer.engine.jobs import Progress
    from isp_viewer.engine.queues import ProgressCallback
    from isp_viewer.models.adapters import Source
    from isp_viewer.models.spec import ModelSpec

_shared: dict[str, Any] = {}
_shared_lock = threading.Lock()
_hand_overs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()   # engine -> its _HandOver loader


class _HandOver:
    """The engine's network loader: a network this module already loaded is handed over once
    (no second read of a large checkpoint); later calls (another device or dtype, a CPU fallback)
    load a fresh CPU fp32 module, as the engine expects."""

    def __init__(self) -> None:
        self._ready: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def offer(self, spec_id: str, weights_path: str, net: Any) -> None:
        with self._lock:
            self._ready[(spec_id, weights_path)] = net

    def __call__(self, spec: ModelSpec, weights: str | None) -> Any:
        with self._lock:
            net = self._ready.pop((spec.id, str(weights)), None)
        if net is not None:
            return net
        from isp_viewer.models.registry import load_network

        return load_network(spec, weights).net


def shared_engine() -> Engine:
    """The process's engine for non-UI callers, with the on-disk result cache ($ISPV_CACHE_DIR)."""
    with _shared_lock:
        engine = _shared.get("engine")
        if engine is None:
            from isp_viewer.engine.cache import ResultCache

            engine = _shared["engine"] = make_engine(ResultCache())
        return engine


def make_engine(cache: Any = None, **kwargs: Any) -> Engine:
    """A private engine that run_through_engine hands its loaded networks to (tests, benchmarks).
    Any other Engine works too, but then loads each network a second time with its own loader."""
    from isp_viewer.engine.engine import Engine

    loader = _HandOver()
    engine = Engine(network_loader=loader, cache=cache, **kwargs)
    _hand_overs[engine] = loader
    return engine


def run_through_engine(spec: ModelSpec, weights: str | Path | None, source: Source, *,
                       reference: Image | None = None, device: str = "auto", precision: str = "auto",
                       tile: int | None = None, options: dict | None = None,
                       progress: ProgressCallback | None = None, cancel: threading.Event | None = None,
                       engine: Engine | None = None, label: str | None = None) -> Image:
    """Run `spec` on `source` (a RawMosaic or an Image) through the engine and wait for the Image.

    weights: a checkpoint path, or None for the registry's (weights/ or packaged). reference: the
    clean sRGB that networks with `needs_reference` take. device: "auto" | "cuda" | "mps" | "cpu";
    precision: "auto" | "fp32" | "fp16" | "bf16"; tile: core tile side in input pixels (None: the
    device's default). options: user-set infer options (e.g. noise_sigma) over the descriptor's.
    progress(Progress) is called on the engine's worker thread. cancel: set it (from any thread)
    to stop the run at its next tile or layer; a cancelled run raises CancelledError.
    engine: None uses `shared_engine()`. Raises what the run raises (ModelError, WeightsError).

    The Image's meta holds what a sidecar or a session needs: model, weights path and sha256,
    device, dtype, placement, seconds, tiles, tile size, notes, whether it came from the cache.
    """
    from isp_viewer.engine.jobs import Job
    from isp_viewer.models.adapters import finish_output, option_label, prepare_input, reference_option
    from isp_viewer.models.registry import load_network

    engine = engine if engine is not None else shared_engine()
    x, cfa = prepare_input(spec, source)     # ModelError before any weights are read
    with_reference = reference_option(spec, reference, source)
    loaded = load_network(spec, weights)
    hand_over = _hand_overs.get(engine)
    if hand_over is not None:
        hand_over.offer(spec.id, loaded.weights_path, loaded.net)
    user_options = dict(options or {})
    job = Job.create(x, spec.id, cfa=cfa, weights=loaded.weights_path, weights_sha256=loaded.weights_sha256,
                     options={**loaded.infer_options(), **with_reference, **user_options},
                     device=device, precision=precision, tile_size=tile)
    del x
    submitted: list[Future] = []

    def relay(p: Progress) -> None:   # the worker thread, after each tile: a set cancel stops the next one
        if progress is not None:
            progress(p)
        if cancel is not None and cancel.is_set() and submitted:
            submitted[0].cancel()

    submitted.append(engine.submit(job, relay))
    result = _wait(submitted[0], cancel)
    meta: dict[str, Any] = {
        "method": "network", "model": spec.id, "model_name": spec.name, "weights_path": loaded.weights_path,
        "weights_sha256": loaded.weights_sha256, "device": result.device, "dtype": result.dtype,
        "placement": result.reason, "seconds": round(result.seconds, 3), "tiles": result.tiles,
        "tile_size": result.tile_size, "notes": list(result.notes), "from_cache": result.from_cache}
    if user_options:
        meta["options"] = user_options
    return finish_output(spec, result.output, source, label or option_label(spec.name, user_options), meta)


def _wait(future: Future, cancel: threading.Event | None):
    if cancel is None:
        return future.result()
    while True:
        done, _ = wait([future], timeout=0.05)
        if done:
            return future.result()
        if cancel.is_set():
            future.cancel()   # the worker stops at its next tile or layer
            raise CancelledError()
