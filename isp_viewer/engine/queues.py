"""The engine's queues: one thread per device serving channels round robin, FIFO in a channel."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

from isp_viewer.engine.devices import Placement
from isp_viewer.engine.jobs import Job, Progress
from isp_viewer.models.spec import ModelSpec

ProgressCallback = Callable[[Progress], None]


@dataclass(eq=False)
class QueuedJob:
    job: Job
    spec: ModelSpec
    placement: Placement
    key: str | None
    future: Future
    progress: ProgressCallback | None
    uncached_reason: str = ""


class ChannelWorker:
    """A thread serving its queue: channels round robin, FIFO within a channel."""

    def __init__(self, name: str, handle: Callable[[QueuedJob], None]) -> None:
        self._handle = handle
        self._cond = threading.Condition()
        self._queues: dict[str, deque[QueuedJob]] = {}
        self._rotation: deque[str] = deque()
        self._closed = False
        self.thread = threading.Thread(target=self._loop, name=f"ispv-engine-{name}", daemon=True)
        self.thread.start()

    def put(self, item: QueuedJob) -> None:
        channel = item.job.channel
        with self._cond:
            if self._closed:
                raise RuntimeError("the engine is shut down")
            queue = self._queues.setdefault(channel, deque())
            if not queue:
                self._rotation.append(channel)
            queue.append(item)
            self._cond.notify()

    def _next(self) -> QueuedJob | None:
        with self._cond:
            while not self._rotation and not self._closed:
                self._cond.wait()
            if self._closed:
                return None
            channel = self._rotation.popleft()
            queue = self._queues[channel]
            item = queue.popleft()
            if queue:
                self._rotation.append(channel)  # back of the line: the other channels go first
            return item

    def _loop(self) -> None:
        while (item := self._next()) is not None:
            self._handle(item)

    def close(self) -> list[QueuedJob]:
        with self._cond:
            self._closed = True
            left = [item for q in self._queues.values() for item in q]
            self._queues.clear()
            self._rotation.clear()
            self._cond.notify_all()
        return left
