"""Process-level measuring helpers shared by the benchmark scripts (Linux /proc)."""

from __future__ import annotations

import threading
from pathlib import Path


def status_kib(field: str) -> int | None:
    """A /proc/self/status field in KiB (VmRSS, VmHWM, ...), or None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False where that is not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def in_thread(fn):
    """Run fn in a fresh thread (as the engine's worker does) and return its value or raise."""
    box = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed back to the caller
            box["error"] = exc

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    return box["value"]
