"""Python's cyclic garbage collector, run on the GUI thread only.

Left automatic, the collector runs in whichever thread happens to allocate when a threshold is
crossed: a worker building a network could then free a cycle holding Qt wrappers (a menu and the
lambdas connected to it) and run QObject destructors off the GUI thread. Seen in this project's
suite as a deadlock: the worker held Qt's connection mutex inside ~QObject and waited for the GIL,
while the GUI thread held the GIL and waited for that mutex in ~QMenu. pyqtgraph's
GarbageCollector disables the automatic collector and collects from a GUI-thread timer instead.
"""

from __future__ import annotations

from typing import Any

_collector: Any = None


def collect_on_gui_thread(interval_s: float = 1.0) -> None:
    """Idempotent; call from the GUI thread once a QApplication exists."""
    global _collector
    if _collector is None:
        from pyqtgraph.util.garbage_collector import GarbageCollector

        _collector = GarbageCollector(interval=interval_s)
