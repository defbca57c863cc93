"""The engine: jobs in, Futures of Results out, one worker thread per device.

- Queueing: each device's worker serves channels round robin (one job per channel in turn),
  FIFO inside a channel. Cache hits are served by a separate thread so they never wait behind
  a long run.
- Generations: submitting generation g on a channel makes every older generation of that
  channel stale: queued ones are cancelled, running ones stop at their next check, and a stale
  result that finishes anyway is dropped (its future is cancelled).
- Cancellation: `future.cancel()` (or `engine.cancel(future)`) works while queued and while
  running: the worker checks between tiles and, through forward pre-hooks on every submodule,
  between layers, so a CPU job stops within about a layer's time.
- Futures stay PENDING while their job runs, so `cancel()` keeps working; `running()` is
  therefore never True.
- Networks are loaded through `network_loader(spec, weights)` (a new CPU fp32 module per call)
  and kept in a small LRU per (spec, weights, device, dtype); spec.infer moves them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from typing import Any

import numpy as np
import torch
from torch import nn

from isp_viewer.engine.cache import ResultCache, cache_key
from isp_viewer.engine.devices import DeviceInfo, Placement, choose_placement, dtype_name, probe_devices, release_memory
from isp_viewer.engine.host_memory import give_back_freed_memory, keep_freed_memory
from isp_viewer.engine.jobs import Job, Progress, Result, options_fingerprint
from isp_viewer.engine.memory_budget import MemoryProbe, TileBudget, available_memory, tile_budget
from isp_viewer.engine.network_cache import (
    NetworkCache,
    NetworkLoader,
    current_job,
    default_network_loader,
    default_spec_lookup,
)
from isp_viewer.engine.pass_progress import PassProgress
from isp_viewer.engine.queues import ChannelWorker, ProgressCallback, QueuedJob
from isp_viewer.engine.tiling import TiledRun, alignment_unit
from isp_viewer.engine.whole_frame import run_whole_frame
from isp_viewer.models.spec import ModelSpec

ENGINE_VERSION = "1"
DEFAULT_TILES = {"cpu": 512, "mps": 768, "cuda": 1024}  # core side for output scale 1
MIN_TILE = 64


class JobCancelled(Exception):
    """Raised inside a worker to stop a job that was cancelled or superseded."""


# --- the engine -------------------------------------------------------------------------------


class Engine:
    """Runs network jobs off the caller's thread. See the module docstring for the behaviour.

    network_loader(spec, weights) -> a new CPU fp32 nn.Module for a weights path/label (default:
    the registry's strict loader); spec_lookup(id) -> ModelSpec (default: the registry);
    cache: a ResultCache or None; device_probe: returns a DeviceInfo (inject a fake in tests);
    max_networks: loaded networks kept; min_tile: the smallest tile side tried after out-of-
    memory; blend / blend_mode: seam band width in input pixels and ramp shape. The default is no
    band: a tile-safe descriptor's tile_overlap is its network's receptive field (measured by the
    models' tests), so the pixels each tile keeps are those of one full-frame pass and a band
    would only compute 2 x 8 px more per seam (bench/inference.py, SRGAN x4 at 2 MP output on
    CPU: engine/full 0.86 with a 16 px band, 0.91 without). Blend for a network whose overlap is
    shorter than its reach. default_tiles: the smallest tile per device (its side at output scale 1);
    memory_probe(device) -> free bytes or None: tiles grow to what free memory allows, so that as
    few seams as possible are computed twice (engine/memory_budget.py; None: the default tiles).
    """

    def __init__(self, network_loader: NetworkLoader | None = None,
                 spec_lookup: Callable[[str], ModelSpec] | None = None, cache: ResultCache | None = None, *,
                 device_probe: Callable[[], DeviceInfo] = probe_devices, max_networks: int = 3,
                 min_tile: int = MIN_TILE, blend: int = 0, blend_mode: str = "cosine",
                 default_tiles: dict[str, int] | None = None, memory_probe: MemoryProbe | None = available_memory,
                 ) -> None:
        self.devices = device_probe()
        self.cache = cache
        self.min_tile, self.blend, self.blend_mode = min_tile, blend, blend_mode
        self.default_tiles = {**DEFAULT_TILES, **(default_tiles or {})}
        self._free_memory = memory_probe or (lambda device: None)
        # Before the worker threads start, so that they share the heap whose freed blocks are
        # reused (engine/host_memory.py); the entry points ask for it earlier still.
        keep_freed_memory()
        self._spec_lookup = spec_lookup or default_spec_lookup
        self._nets = NetworkCache(network_loader or default_network_loader, max_networks)
        self._lock = threading.Lock()
        self._workers: dict[str, ChannelWorker] = {}
        self._newest: dict[str, int] = {}
        self._live: set[QueuedJob] = set()
        self._closed = False

    # --- public API ---------------------------------------------------------------------------

    def submit(self, job: Job, progress: ProgressCallback | None = None) -> Future:
        """Queue `job`; the Future resolves to a Result, an exception (ModelError, WeightsError,
        ...), or is cancelled (by the caller, or because a newer generation superseded it).

        progress(Progress) is called on the worker thread; it must be quick and must not raise
        (an exception fails the job). Hand it to the GUI thread with a queued signal.
        """
        future: Future = Future()
        try:
            spec = self._spec_lookup(job.spec_id)
            placement = choose_placement(spec, job.device, job.precision, self.devices)
            key, uncached = self._cache_key(job, spec, placement)
        except Exception as exc:  # unknown id, bad options: the same channel as a failed run
            future.set_running_or_notify_cancel()
            future.set_exception(exc)
            return future
        item = QueuedJob(job, spec, placement, key, future, progress, uncached)
        with self._lock:
            if self._closed:
                raise RuntimeError("the engine is shut down")
            newest = self._newest.get(job.channel)
            arrived_stale = newest is not None and job.generation < newest
            if not arrived_stale:
                self._newest[job.channel] = job.generation
                superseded = [i for i in self._live
                              if i.job.channel == job.channel and i.job.generation < job.generation]
                self._live.add(item)
                use_cache = self.cache is not None and key is not None and self.cache.contains(key)
                worker = self._worker("cache" if use_cache else placement.device)
        if arrived_stale:
            self._drop(item)
            return future
        for old in superseded:
            old.future.cancel()  # queued: skipped when taken; running: stops at its next check
        worker.put(item)
        return future

    def cancel(self, future: Future) -> bool:
        """Cancel a queued or running job (a running one stops at its next tile or layer)."""
        return future.cancel()

    def run(self, job: Job, progress: ProgressCallback | None = None) -> Result:
        """submit(job).result(): convenient for the CLI and benchmarks."""
        return self.submit(job, progress).result()

    def shutdown(self, wait: bool = True, timeout: float | None = None) -> None:
        """Stop the workers; queued jobs are cancelled, a running one stops at its next check."""
        with self._lock:
            self._closed = True
            workers = list(self._workers.values())
            running = list(self._live)
        for item in running:
            item.future.cancel()
        for worker in workers:
            for item in worker.close():
                self._drop(item)
        if wait:
            for worker in workers:
                worker.thread.join(timeout)
        self._nets.clear()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown()

    @property
    def networks_loaded(self) -> int:
        """How many times the loader was called (a test of the network cache)."""
        return self._nets.loads

    def default_tile(self, device: str, spec: ModelSpec) -> int:
        # Bigger outputs per input pixel: smaller input tiles, so a tile's memory and time stay similar.
        base = self.default_tiles.get(device, DEFAULT_TILES["cpu"])
        return max(self.min_tile, int(base / max(1, spec.output_scale) ** 0.5))

    def tile_budget(self, device: str, spec: ModelSpec, element_size: int = 4) -> TileBudget:
        """Input pixels one tile may hold: as many as free memory allows, at least the default tile."""
        default = self.default_tile(device, spec) ** 2
        free = self._free_memory(device) if spec.peak_bytes_per_pixel else None
        return tile_budget(spec, device, element_size, default, free)

    # --- internals ----------------------------------------------------------------------------

    def _worker(self, name: str) -> ChannelWorker:
        worker = self._workers.get(name)
        if worker is None:
            handle = self._serve_from_cache if name == "cache" else self._run_on_device
            worker = self._workers[name] = ChannelWorker(name, handle)
        return worker

    def _cache_key(self, job: Job, spec: ModelSpec, placement: Placement) -> tuple[str | None, str]:
        if self.cache is None:
            return None, ""
        if not job.weights_sha256:
            return None, "not cached: the weights have no sha256"
        try:
            options = options_fingerprint(job.options)
        except TypeError as exc:
            return None, f"not cached: {exc}"
        extra: dict[str, Any] = {"dtype": dtype_name(placement.dtype), "cfa": job.cfa or ""}
        if not spec.tiling_safe and job.max_whole_frame_pixels:
            extra["budget"] = job.max_whole_frame_pixels
        return cache_key(job.input_hash, spec.id, job.weights_sha256, options, ENGINE_VERSION, **extra), ""

    def _is_stale(self, job: Job) -> bool:
        with self._lock:
            return job.generation < self._newest.get(job.channel, job.generation)

    def _check(self, item: QueuedJob) -> None:
        if item.future.cancelled() or self._is_stale(item.job):
            raise JobCancelled()

    def _forget(self, item: QueuedJob) -> None:
        with self._lock:
            self._live.discard(item)

    # Each item ends in exactly one of _drop, _fail, _deliver (each calls
    # set_running_or_notify_cancel once, which is what makes them race-free against cancel()).

    def _drop(self, item: QueuedJob) -> None:
        item.future.cancel()
        item.future.set_running_or_notify_cancel()
        self._forget(item)

    def _fail(self, item: QueuedJob, exc: BaseException) -> None:
        if item.future.set_running_or_notify_cancel():
            item.future.set_exception(exc)
        self._forget(item)

    def _deliver(self, item: QueuedJob, result: Result) -> None:
        if self._is_stale(item.job):
            item.future.cancel()  # a newer generation was submitted while this one ran
        if item.future.set_running_or_notify_cancel():
            item.future.set_result(result)
        self._forget(item)

    def _serve_from_cache(self, item: QueuedJob) -> None:
        if item.future.cancelled() or self._is_stale(item.job):
            self._drop(item)
            return
        t0 = time.perf_counter()
        hit = self.cache.get(item.key) if self.cache is not None and item.key else None
        if hit is None:  # evicted or damaged since submit: compute it
            try:
                with self._lock:
                    if self._closed:
                        raise RuntimeError("the engine is shut down")
                    worker = self._worker(item.placement.device)
                worker.put(item)
            except RuntimeError as exc:
                self._fail(item, exc)
            return
        output, meta = hit
        notes = tuple(meta.get("notes", ())) + (
            f"from the result cache (computed in {meta.get('seconds', 0.0):.1f} s on {meta.get('device', '?')})",)
        result = Result(output=output, device=str(meta.get("device", "")), dtype=str(meta.get("dtype", "")),
                        reason=str(meta.get("reason", "")), seconds=time.perf_counter() - t0,
                        tiles=int(meta.get("tiles", 1)), tile_size=int(meta.get("tile_size", 0)), notes=notes,
                        from_cache=True, spec_id=item.job.spec_id, input_hash=item.job.input_hash,
                        channel=item.job.channel, generation=item.job.generation, cache_key=item.key, meta=meta)
        self._deliver(item, result)

    def _run_on_device(self, item: QueuedJob) -> None:
        try:
            self._compute_and_deliver(item)
        finally:
            give_back_freed_memory()   # after delivery: the result is not held up by the trim

    def _compute_and_deliver(self, item: QueuedJob) -> None:
        if item.future.cancelled() or self._is_stale(item.job):
            self._drop(item)
            return
        current_job.check = lambda: self._check(item)
        try:
            with torch.inference_mode():
                result = self._compute(item)
        except JobCancelled:
            self._drop(item)
            return
        except BaseException as exc:  # the job's failure, never the worker's
            self._fail(item, exc)
            return
        finally:
            current_job.check = current_job.progress = None
        if self.cache is not None and item.key is not None:
            result = self._store(item, result)
        elif item.uncached_reason:
            result = replace(result, notes=result.notes + (item.uncached_reason,))
        self._deliver(item, result)

    def _store(self, item: QueuedJob, result: Result) -> Result:
        meta = {"spec_id": item.job.spec_id, "input_hash": item.job.input_hash,
                "weights": item.job.weights, "weights_sha256": item.job.weights_sha256,
                "device": result.device, "dtype": result.dtype, "reason": result.reason,
                "seconds": result.seconds, "tiles": result.tiles, "tile_size": result.tile_size,
                "notes": list(result.notes), "engine_version": ENGINE_VERSION, "created": time.time()}
        assert self.cache is not None and item.key is not None   # _finish stores only then
        try:
            self.cache.put(item.key, result.output, meta)
        except OSError as exc:
            return replace(result, notes=result.notes + (f"not cached: {exc.strerror or exc}",))
        return replace(result, cache_key=item.key)

    def _compute(self, item: QueuedJob) -> Result:
        job, spec, placement = item.job, item.spec, item.placement
        t0 = time.perf_counter()
        options = {**spec.options, **job.option_dict}
        state: dict[str, Any] = {"device": placement.device, "dtype": placement.dtype}
        notes: list[str] = []

        def infer_with(net: nn.Module, device: str, dtype: torch.dtype):
            extra: dict[str, Any] = {}
            if spec.reports_progress and not spec.tiling_safe:   # long whole-frame passes report per stage
                extra["progress"] = lambda fraction: report(0, 1, fraction, max(job.x.shape[:2]))

            def infer(tile: np.ndarray, context: tuple[int, int, int, int] | None = None) -> np.ndarray:
                where = {"context": context} if context is not None else {}
                steps.start(net)
                try:
                    return spec.infer(net, tile, cfa=job.cfa, device=device, dtype=dtype, **options, **extra, **where)
                finally:
                    steps.finish()
            return infer

        def fallback(exc: BaseException):
            if state["device"] == "cpu":
                return None
            release_memory(state["device"])
            notes.append(f"fell back to CPU after {state['device'].upper()} out-of-memory")
            state["device"], state["dtype"] = "cpu", torch.float32
            cpu_net = self._nets.get(spec, job.weights, job.weights_sha256, "cpu", torch.float32)
            return infer_with(cpu_net, "cpu", torch.float32)

        def report(done: int, total: int, fraction: float, tile: int) -> None:
            if item.progress is None:
                return
            elapsed = time.perf_counter() - t0
            remaining = elapsed * (1.0 - fraction) / fraction if fraction > 0 else None
            item.progress(Progress(done, total, fraction, elapsed, remaining, tile))

        # Within a pass, progress from the module calls, unless the network reports its own stages.
        steps = PassProgress(None if spec.reports_progress else
                             lambda part: report(0, 1, part, max(job.x.shape[:2])))
        current_job.progress = steps
        net = self._nets.get(spec, job.weights, job.weights_sha256, placement.device, placement.dtype)
        self._check(item)
        infer = infer_with(net, placement.device, placement.dtype)
        h, w = job.x.shape[:2]
        if spec.tiling_safe:
            # a pixel budget (none where the user chose a tile size): an image within it runs as one
            # tile, one full-frame pass
            budget = None if job.tile_size else self.tile_budget(placement.device, spec, placement.dtype.itemsize)
            run = TiledRun(job.x, scale=spec.output_scale, overlap=spec.tile_overlap,
                           unit=alignment_unit(spec.tile_align, spec.size_multiple),
                           tile=job.tile_size or self.default_tile(placement.device, spec),
                           min_tile=max(self.min_tile, spec.min_size), blend=self.blend, mode=self.blend_mode,
                           name=spec.name, takes_context=spec.takes_context,
                           budget=None if budget is None else budget.pixels)
            if run.total > 1 and budget is not None and budget.reason:
                notes.append(budget.reason)
            if not spec.reports_progress:
                steps.report = lambda part: report(len(run.finished), run.total, run.fraction_within(part), run.tile)
            output = run.run(infer, check=lambda: self._check(item),
                             report=lambda d, t, f: report(d, t, f, run.tile), fallback=fallback,
                             on_oom=lambda exc: release_memory(state["device"]))
            notes[:0] = run.notes
            tiles, tile_size = len(run.finished), run.tile
        else:
            notes.insert(0, f"{spec.name} runs whole-frame by design (not tile-safe)")
            report(0, 1, 0.0, max(h, w))
            output = run_whole_frame(job, spec, infer, fallback, notes)
            report(1, 1, 1.0, max(h, w))
            tiles, tile_size = 1, max(h, w)
        if state["device"] != placement.device:
            reason = f"{placement.reason}; then CPU fp32 after out-of-memory"
        else:
            reason = placement.reason
        return Result(output=np.ascontiguousarray(output, np.float32), device=state["device"],
                      dtype=dtype_name(state["dtype"]), reason=reason, seconds=time.perf_counter() - t0,
                      tiles=tiles, tile_size=tile_size, notes=tuple(notes), spec_id=job.spec_id,
                      input_hash=job.input_hash, channel=job.channel, generation=job.generation)
