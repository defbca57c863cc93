"""Run callables off the GUI thread and hand their results back on it."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal


class FutureBridge(QObject):
    """`submit(fn, on_done, on_error, key=...)`: fn runs in a worker; the callbacks run on the GUI
    thread. With a key, only the latest submission under that key delivers: an older one that
    finishes later is stale (its inputs changed meanwhile) and is dropped.

    The done-callback of a Future runs in the worker, so it only emits a signal; Qt queues the
    signal to this object's (GUI) thread.
    """

    _finished = Signal(object, object, object, object)  # on_done, on_error, result, error

    def __init__(self, workers: int = 2, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ispv-worker")
        self._finished.connect(self._deliver)
        self.pending = 0
        self.closed = False
        self._latest: dict[Any, int] = {}   # key -> generation of its newest submission
        self._generations = 0

    def submit(self, fn: Callable[[], Any], on_done: Callable[[Any], None],
               on_error: Callable[[BaseException], None] | None = None, key: Any = None) -> Future | None:
        if self.closed:
            return None   # the window is closing: late timers must not start work
        if key is not None:
            on_done, on_error = self._latest_only(key, on_done, on_error)
        self.pending += 1
        future = self.pool.submit(fn)
        future.add_done_callback(lambda f: self._finished.emit(on_done, on_error, *_outcome(f)))
        return future

    def watch(self, future: Future, on_done: Callable[[Any], None],
              on_error: Callable[[BaseException], None] | None = None) -> Future:
        """Deliver an existing Future (e.g. from the engine) on the GUI thread."""
        self.pending += 1
        future.add_done_callback(lambda f: self._finished.emit(on_done, on_error, *_outcome(f)))
        return future

    def is_latest(self, key: Any, generation: int) -> bool:
        return self._latest.get(key) == generation

    def _latest_only(self, key, on_done, on_error):
        self._generations += 1
        generation = self._generations
        self._latest[key] = generation

        def done(result) -> None:
            if self.is_latest(key, generation):
                on_done(result)

        def error(err) -> None:
            if self.is_latest(key, generation) and on_error is not None:
                on_error(err)

        return done, error

    def _deliver(self, on_done, on_error, result, error) -> None:
        self.pending -= 1
        if error is None:
            on_done(result)
        elif on_error is not None:
            on_error(error)

    def shutdown(self) -> None:
        self.closed = True
        self.pool.shutdown(wait=False, cancel_futures=True)


def _outcome(future: Future) -> tuple[Any, BaseException | None]:
    if future.cancelled():
        from concurrent.futures import CancelledError

        return None, CancelledError()
    err = future.exception()
    return (None, err) if err is not None else (future.result(), None)
