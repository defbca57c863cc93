"""Cyclic garbage is freed on the GUI thread, never inside a worker (see isp_viewer.ui.gui_thread_gc)."""

from __future__ import annotations

import gc
import threading

import pytest

pytest.importorskip("PySide6", reason="needs PySide6")


freed_on: list[str] = []   # the names of the threads that freed a _Cycle


class _Cycle:

    def __init__(self) -> None:
        self.me = self

    def __del__(self) -> None:
        freed_on.append(threading.current_thread().name)


def test_cycles_are_collected_by_the_gui_threads_timer_while_workers_allocate(window, qtbot):
    assert not gc.isenabled()          # the window turned the automatic collector off
    freed_on.clear()
    _Cycle()                           # unreachable at once, but only a collection can free it
    stop = threading.Event()

    def allocate() -> None:            # a worker allocating as a network build does
        while not stop.is_set():
            _ = [[i] for i in range(2000)]

    worker = threading.Thread(target=allocate, name="allocating-worker")
    worker.start()
    try:
        qtbot.waitUntil(lambda: bool(freed_on), timeout=20000)
    finally:
        stop.set()
        worker.join()
    assert freed_on == [threading.main_thread().name]
