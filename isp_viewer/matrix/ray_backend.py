"""The Ray backend: one actor per device of the cluster, each a `Worker` holding its networks.

Every GPU of every node gets an actor with `num_gpus=1` (Ray pins it through
CUDA_VISIBLE_DEVICES); a node without GPUs gets one CPU actor that owns the node's CPUs (its
torch threads). Tasks are handed out as actors finish (a few in flight each) and results stream
back to the caller, which stores them. An actor that dies is restarted and its task retried; a
task that fails with an error other than a user error (bad input, missing weights: those stop the
run with their message) is retried on any actor up to `retries` times.

The data set's files and the weights must be readable at the same paths on every node (a shared
file system); a worker checks each file's sha256 against the plan, so a different file is refused
rather than scored. isp-viewer must be installed on every node (`pip install isp-viewer[ray]`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError
from typing import Any

from isp_viewer.core.errors import InputError, IspViewerError
from isp_viewer.matrix.cells import Task
from isp_viewer.matrix.runner import Deliver
from isp_viewer.matrix.worker import Worker


class _MatrixActor:
    """The actor's body: a Worker, made once per actor (its networks stay loaded)."""

    def __init__(self, device: str, factory: Callable[[str], Worker] = Worker) -> None:
        self.worker = factory(device)

    def run(self, task: Task):
        return self.worker.run(task)

    def loads(self) -> int:
        return self.worker.network_loads


def import_ray():
    try:
        import ray
    except ImportError:
        raise InputError("--ray needs Ray: pip install 'isp-viewer[ray]'") from None
    return ray


class RayBackend:
    """address: "auto" (a running cluster if one is found, else a local instance) or a cluster
    address ("ray://host:10001", "host:6379"). An instance this backend started is shut down by
    close(); one that was already running (e.g. a test's `ray.init`) is left alone."""

    name = "ray"

    def __init__(self, address: str = "auto", *, retries: int = 2, in_flight: int = 2,
                 init: dict[str, Any] | None = None, worker_factory: Callable[[str], Worker] = Worker) -> None:
        ray = self._ray = import_ray()
        self._factory = worker_factory   # tests inject failing workers here
        self.retries, self.in_flight = retries, max(1, in_flight)
        self._started = False
        if not ray.is_initialized():
            kwargs = {"logging_level": logging.ERROR, "include_dashboard": False, **(init or {})}
            try:
                ray.init(address=None if address == "auto" else address, **kwargs)
            except (ConnectionError, ValueError, RuntimeError) as exc:
                raise InputError(f"--ray {address}: cannot reach a Ray cluster ({' '.join(str(exc).split())[:200]})") \
                    from None
            self._started = True
        self.actors = self._make_actors()

    def _make_actors(self) -> list:
        ray = self._ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        remote = ray.remote(max_restarts=2, max_task_retries=2)(_MatrixActor)
        actors = []
        for node in ray.nodes():
            if not node.get("Alive"):
                continue
            res = node.get("Resources", {})
            where = NodeAffinitySchedulingStrategy(node["NodeID"], soft=False)
            gpus = int(res.get("GPU", 0))
            for _ in range(gpus):
                actor = remote.options(num_gpus=1, num_cpus=1, scheduling_strategy=where)
                actors.append(actor.remote("cuda", self._factory))
            if not gpus and res.get("CPU", 0) >= 1:
                actor = remote.options(num_cpus=int(res["CPU"]), scheduling_strategy=where)
                actors.append(actor.remote("cpu", self._factory))
        if not actors:
            raise InputError("the Ray cluster has no node with a CPU or GPU to run on")
        return actors

    def execute(self, tasks: Sequence[Task], deliver: Deliver, cancel: Callable[[], bool]) -> None:
        ray = self._ray
        from ray.exceptions import RayTaskError

        queue = list(reversed(tasks))
        tries: dict[str, int] = {}
        pending: dict[Any, tuple[Any, Task]] = {}
        busy = {id(a): 0 for a in self.actors}

        def feed() -> None:
            for actor in self.actors:
                while queue and busy[id(actor)] < self.in_flight:
                    task = queue.pop()
                    pending[actor.run.remote(task)] = (actor, task)
                    busy[id(actor)] += 1

        feed()
        while pending:
            if cancel():
                raise CancelledError("matrix run cancelled")
            done, _ = ray.wait(list(pending), num_returns=1, timeout=0.5)
            for ref in done:
                actor, task = pending.pop(ref)
                busy[id(actor)] -= 1
                try:
                    result = ray.get(ref)
                except RayTaskError as err:
                    cause = getattr(err, "cause", None)
                    if isinstance(cause, IspViewerError):
                        raise type(cause)(str(cause)) from None
                    self._retry(task, tries, queue, cause or err)
                    continue
                except ray.exceptions.RayError as err:   # the actor died past its restarts, ...
                    self._retry(task, tries, queue, err)
                    continue
                deliver(result)
            feed()

    def _retry(self, task: Task, tries: dict[str, int], queue: list[Task], err: BaseException) -> None:
        tries[task.key] = tries.get(task.key, 0) + 1
        if tries[task.key] > self.retries:
            raise RuntimeError(f"{task.item.stem} / {task.method.label} failed {tries[task.key]} times on Ray: "
                               f"{type(err).__name__}: {' '.join(str(err).split())[:300]}")
        queue.append(task)

    def network_loads(self) -> list[int]:
        """Network loads per actor so far (a check that each loads a network once)."""
        return self._ray.get([a.loads.remote() for a in self.actors])

    def close(self) -> None:
        for actor in self.actors:
            self._ray.kill(actor)
        self.actors = []
        if self._started:
            self._ray.shutdown()
