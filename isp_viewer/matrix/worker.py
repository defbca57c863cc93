"""One worker of a matrix run: holds its engine and loaded networks and turns Tasks into results.

The same class runs in the local backend (in the caller's process) and inside each Ray actor, so
both compute every number the same way: the input as the item's protocol makes it, networks
through `isp_viewer.engine` (tiled, one load per network per worker), the output aligned onto the
reference, the metrics, then the worst regions.
"""

from __future__ import annotations

import json
import socket
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import CancelledError
from typing import Any

from isp_viewer.core.errors import InputError
from isp_viewer.core.image import Image
from isp_viewer.matrix.cells import Item, Method, Task, convention_value
from isp_viewer.matrix.regions import error_image, worst_windows
from isp_viewer.matrix.store import TaskResult

CancelCheck = Callable[[], bool]


class Worker:
    """device: the engine's device request ("auto", "cpu", "cuda"); a Ray actor pins its GPU
    through CUDA_VISIBLE_DEVICES, so "auto" there means that GPU."""

    def __init__(self, device: str = "auto") -> None:
        self.device = device
        self._engine = None
        self._loaded: dict[tuple[str, str], Any] = {}
        self._pairs: OrderedDict[str, tuple[Image, Any]] = OrderedDict()
        self.network_loads = 0
        self.host = socket.gethostname()

    def run(self, task: Task, cancel: CancelCheck | None = None) -> TaskResult:
        t0 = time.perf_counter()
        reference, source = self._pair(task.item)
        output, device = self._output(task.method, source, reference, cancel)
        from isp_viewer.metrics.align import align_to_reference

        try:
            aligned = align_to_reference(output.rgb(), reference.rgb())
        except InputError as err:
            raise InputError(f"{task.item.stem} / {task.method.label}: {err}") from err
        metrics = [m for m, _ in task.cells]
        scores = score(aligned.image, aligned.reference, task.convention, metrics)
        conv = json.dumps(convention_value(task.convention), sort_keys=True)
        cells = tuple((key, metric, conv, float(scores[metric])) for metric, key in task.cells)
        offset = (aligned.region.x, aligned.region.y)
        errors: dict[str, Any] = {}
        regions = []
        for spec, key in task.regions:
            if spec.error not in errors:
                errors[spec.error] = error_image(aligned.image, aligned.reference, spec.error)
            found = worst_windows(errors[spec.error], spec.window, spec.k, offset, spec.error)
            regions.append((key, spec.error, spec.window, spec.k, found))
        return TaskResult(task.key, task.item.stem, task.method.label, json.dumps(task.method.value(), sort_keys=True),
                          device, time.perf_counter() - t0, cells, tuple(regions), self.host)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.shutdown()
            self._engine = None

    # --- inputs -------------------------------------------------------------------------------

    def _pair(self, item: Item) -> tuple[Image, Any]:
        """(reference, source), kept for the last few items: a task order of items outermost
        loads each image once."""
        key = json.dumps(item.value(), sort_keys=True)
        if key in self._pairs:
            self._pairs.move_to_end(key)
            return self._pairs[key]
        from isp_viewer.metrics.evaluation import load_pair
        from isp_viewer.models.loading import sha256_of_file

        for path, want in ((item.input_path, item.input_sha256), (item.ref_path, item.ref_sha256)):
            if sha256_of_file(path) != want:   # changed since planning, or another file on this node
                raise InputError(f"{path}: its content changed since the matrix was planned; run it again")
        pair = load_pair(item.input_path, item.ref_path, item.simulate_cfa, item.downscale)
        self._pairs[key] = pair
        while len(self._pairs) > 2:
            self._pairs.popitem(last=False)
        return pair

    # --- methods ------------------------------------------------------------------------------

    def _output(self, method: Method, source, reference: Image, cancel: CancelCheck | None) -> tuple[Image, str]:
        if method.kind == "classical":
            from isp_viewer.io.develop import classical_demosaic

            if not hasattr(source, "cfa"):
                raise InputError(f"{method.name} demosaicks a mosaic; give a RAW input or --simulate-cfa")
            return classical_demosaic(source, method.name), "cpu"
        return self._network(method, source, reference, cancel)

    def _network(self, method: Method, source, reference: Image, cancel: CancelCheck | None) -> tuple[Image, str]:
        from concurrent.futures import wait

        from isp_viewer.engine.jobs import Job
        from isp_viewer.models.adapters import finish_output, reference_option

        loaded = self._network_for(method)
        spec = loaded.spec
        options = {**loaded.infer_options(), **reference_option(spec, reference, source), **dict(method.options)}
        job = Job.from_source(spec, source, weights=loaded.weights_path, weights_sha256=loaded.weights_sha256,
                              options=options, device=self.device, precision=method.precision,
                              tile_size=method.tile_size, channel="matrix")
        future = self.engine.submit(job)
        while not wait([future], timeout=0.2).done:   # a cancel reaches the engine within a layer
            if cancel is not None and cancel():
                self.engine.cancel(future)
        if future.cancelled():
            raise CancelledError("matrix run cancelled")
        result = future.result()
        meta = {"method": "network", "model": spec.id, "weights_sha256": loaded.weights_sha256,
                "device": result.device, "dtype": result.dtype, "seconds": round(result.seconds, 3)}
        return finish_output(spec, result.output, source, method.label, meta), result.device

    def _network_for(self, method: Method):
        key = (method.name, method.weights_sha256)
        if key not in self._loaded:
            from isp_viewer.models.registry import get_spec, load_network

            loaded = load_network(get_spec(method.name), method.weights)
            if method.weights_sha256 and loaded.weights_sha256 != method.weights_sha256:
                raise InputError(f"{method.name}: {loaded.weights_path} on {self.host} is not the planned checkpoint")
            self._loaded[key] = loaded
            self.network_loads += 1
        return self._loaded[key]

    @property
    def engine(self):
        if self._engine is None:
            from isp_viewer.engine.engine import Engine

            # The engine loads through this worker's networks: one load per network and worker.
            self._engine = Engine(network_loader=self._engine_loader, cache=None)
        return self._engine

    def _engine_loader(self, spec, weights):
        for (name, _), loaded in self._loaded.items():
            if name == spec.id and loaded.weights_path == weights:
                return loaded.net
        from isp_viewer.models.registry import load_network

        return load_network(spec, weights).net


def score(test, reference, conv, metrics) -> dict[str, float]:
    """{metric: value} through the metric catalogue."""
    from isp_viewer.metrics.catalogue import score as catalogue_score

    return catalogue_score(test, reference, conv, metrics)
