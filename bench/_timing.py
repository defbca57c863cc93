"""Best-of-N wall and CPU time, shared by the benchmark scripts."""

from __future__ import annotations

import time


def timed(fn, repeat: int):
    """(last result, best wall seconds, best CPU seconds) over `repeat` calls."""
    best_wall = best_cpu = float("inf")
    result = None
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return result, best_wall, best_cpu
