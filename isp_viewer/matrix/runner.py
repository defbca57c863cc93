"""Running a matrix: plan the missing cells, compute them on a backend, store each as it finishes.

Backends share one contract, `execute(tasks, deliver, cancel)`: compute each Task with a
`Worker` and call `deliver(TaskResult)` in the caller's thread as results arrive (in any order).
The store is written only here, by the caller, so local and Ray runs fill it the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError
from dataclasses import dataclass, replace
from typing import Protocol

from isp_viewer.matrix.cells import MatrixSpec, Task
from isp_viewer.matrix.store import ResultStore, TaskResult
from isp_viewer.matrix.worker import Worker
from isp_viewer.metrics.dataset import CancelLike, is_cancelled

Deliver = Callable[[TaskResult], None]


@dataclass(frozen=True)
class RunProgress:
    """After each stored task: tasks done of those to compute, and of the whole matrix."""

    done: int
    to_compute: int
    total_tasks: int
    cells_stored: int
    last: TaskResult


@dataclass(frozen=True)
class RunSummary:
    total_tasks: int
    computed: tuple[tuple[str, str], ...]   # (image, method) of the tasks computed in this run
    cells_total: int
    cells_computed: int
    seconds: float
    backend: str


class Backend(Protocol):
    name: str

    def execute(self, tasks: Sequence[Task], deliver: Deliver, cancel: Callable[[], bool]) -> None: ...


class LocalBackend:
    """Tasks one after another in this process through one Worker (its engine runs networks on
    the best local device; networks load once per run)."""

    name = "local"

    def __init__(self, device: str = "auto") -> None:
        self.worker = Worker(device)

    def execute(self, tasks: Sequence[Task], deliver: Deliver, cancel: Callable[[], bool]) -> None:
        for task in tasks:
            if cancel():
                raise CancelledError("matrix run cancelled")
            deliver(self.worker.run(task, cancel))

    def close(self) -> None:
        self.worker.close()


def plan(spec: MatrixSpec, store: ResultStore) -> list[Task]:
    """The tasks with at least one cell or region set missing, each narrowed to what is missing."""
    tasks = spec.all_tasks()
    known = store.known_cells([k for t in tasks for _, k in t.cells])
    known_regions = store.known_region_sets([k for t in tasks for _, k in t.regions])
    todo = []
    for t in tasks:
        cells = tuple((m, k) for m, k in t.cells if k not in known)
        regions = tuple((r, k) for r, k in t.regions if k not in known_regions)
        if cells or regions:
            # a task re-run for its regions recomputes its metrics too: they cost little next to the run
            todo.append(replace(t, cells=t.cells if regions else cells, regions=regions))
    return todo


def run_matrix(spec: MatrixSpec, store: ResultStore, backend: Backend | None = None, *,
               progress: Callable[[RunProgress], None] | None = None, cancel: CancelLike = None) -> RunSummary:
    """Compute what `store` lacks of `spec`. progress(RunProgress) runs in the caller's thread
    after each stored task; `cancel` (callable or Event) stops between tasks and inside network
    runs (CancelledError; every task finished before it stays stored)."""
    t0 = time.perf_counter()
    total = len(spec.items) * len(spec.methods)
    todo = plan(spec, store)
    own = backend is None
    backend = backend or LocalBackend()
    computed: list[tuple[str, str]] = []
    cells = [0]

    def deliver(result: TaskResult) -> None:
        store.put(result)
        computed.append((result.image, result.method))
        cells[0] += len(result.cells)
        if progress is not None:
            progress(RunProgress(len(computed), len(todo), total, cells[0], result))

    try:
        if todo:
            backend.execute(todo, deliver, lambda: is_cancelled(cancel))
    finally:
        if own:
            backend.close()
    return RunSummary(total, tuple(computed), total * len(spec.metrics), cells[0], time.perf_counter() - t0,
                      backend.name)
