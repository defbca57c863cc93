"""Host memory for CPU inference: keep freed activation buffers for reuse, give them back after a job.

glibc serves every allocation above its mmap threshold (at most 32 MB) with a fresh mmap and
unmaps it on free. A convolution network on the CPU allocates a new activation tensor per layer
(a 2 MP frame with 64 channels is 530 MB), so each layer's output is faulted in and zeroed by the
kernel page by page, then unmapped, then mapped again for the next layer. Measured on demosaicnet
Bayer, 2 MP, 2 cores: 9.3 s per frame with glibc's defaults, 4.1 s with mmap turned off so that
freed blocks are reused from the heap (the note of issue 16).

`keep_freed_memory()` limits glibc to one arena (a thread's own arena is at most 64 MB and maps
anything larger afresh, whatever M_MMAP_MAX says), turns chunk mmaps off and lets the heap keep
what is freed. It is called by the entry points before any thread starts and by the Engine
before its workers start; threads that already have an arena keep it.
`give_back_freed_memory()` (malloc_trim) returns the free pages to the system, and is called when
a job ends so that the process does not stay at a job's peak. Both do nothing where the C
library is not glibc (macOS, Windows, musl), whose allocators behave differently.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
import threading

M_TRIM_THRESHOLD = -1   # glibc's mallopt parameters (malloc.h)
M_MMAP_MAX = -4
M_ARENA_MAX = -8
KEEP_UP_TO = 2 ** 31 - 1  # bytes of free heap top kept between trims (mallopt takes an int)

_lock = threading.Lock()
_state: dict[str, object] = {}


def _glibc() -> ctypes.CDLL | None:
    if "libc" not in _state:
        libc = None
        if sys.platform.startswith("linux"):
            try:
                candidate = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                candidate.gnu_get_libc_version.restype = ctypes.c_char_p   # glibc only
                candidate.gnu_get_libc_version()
                libc = candidate
            except (OSError, AttributeError):
                libc = None
        _state["libc"] = libc
    return _state["libc"]  # type: ignore[return-value]


def keep_freed_memory() -> bool:
    """Serve large blocks from the heap and keep freed ones; True where it took effect (glibc)."""
    with _lock:
        if _state.get("kept"):
            return True
        libc = _glibc()
        if libc is None:
            return False
        # One arena: a thread's own arena is at most 64 MB and mmaps anything larger whatever
        # M_MMAP_MAX says, so threads started after this call share the main heap instead.
        ok = all(libc.mallopt(param, value) for param, value in
                 ((M_ARENA_MAX, 1), (M_MMAP_MAX, 0), (M_TRIM_THRESHOLD, KEEP_UP_TO)))
        _state["kept"] = ok
        return ok


def give_back_freed_memory() -> None:
    """Return the heap's free pages to the system (after a job; a few milliseconds)."""
    if not _state.get("kept"):
        return
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
