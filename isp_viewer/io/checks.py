"""The checks every command applies to an input, so `info`, `render`, `process` and the window agree.

* `check_input_file`: the path names a non-empty file (not missing, not a folder), whatever its kind.
* `fit_white_level`: for already-demosaiced data, a stated white level below the values is
  replaced by the one the bits actually used imply (a film scanner that says 255 for 16-bit data).
* `check_plausible`: decoded values no sensor produces (all equal, mostly zero, above white) are refused.
* `captured_stderr`: C decoders (LibRaw, libpng inside OpenCV) print on the process's stderr;
  their text becomes part of our one-line message instead of a second line on the terminal.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np

from isp_viewer.core.errors import InputError


def check_input_file(path: Path) -> None:
    """InputError unless `path` is an existing, non-empty regular file."""
    if path.is_dir():
        raise InputError(f"{path.name}: is a folder, not a file")
    if not path.exists():
        raise InputError(f"{path.name}: file not found")
    if path.stat().st_size == 0:
        raise InputError(f"{path.name}: file is empty (0 bytes)")


def bits_used(max_value: int) -> int:
    """ceil(log2(max + 1)): how many bits the largest value needs (at least 1)."""
    return max(1, math.ceil(math.log2(int(max_value) + 1)))


def fit_white_level(values: np.ndarray, stated: int) -> tuple[int, str | None]:
    """(white level to use, warning or None): the stated one unless the data exceed it."""
    hi = int(values.max()) if values.size else 0
    if hi <= stated:
        return int(stated), None
    bits = bits_used(hi)
    white = (1 << bits) - 1
    return white, (f"stated white level {stated} is below the data (values up to {hi}); "
                   f"using {white} ({bits} bits used)")


MIN_BITS_PER_PIXEL = 0.125   # real RAW files here: 1.9-3.3 bits per sensor pixel; lossy DNGs about 1-2


def check_holds_pixels(file_bytes: int, width: int, height: int, name: str) -> None:
    """Refuse a file too small to hold its stated image (a metadata-only or pruned copy).

    LibRaw fills a pruned file's pixel buffer with nothing: the values are whatever that memory
    held before. The engine keeps freed heap blocks for reuse (engine/host_memory.py), so in the
    app that is earlier images' data, which can pass every value check; the file's size cannot.
    """
    need = width * height * MIN_BITS_PER_PIXEL / 8
    if file_bytes < need:
        raise InputError(f"{name}: no image data (a {_kib(file_bytes)} file cannot hold a {width}x{height} image); "
                         "the file may be a metadata-only or pruned copy")


def _kib(n: int) -> str:
    return f"{n / 1024:.0f} KB" if n >= 1024 else f"{n} byte"


def check_plausible(values: np.ndarray, black: int, white: int, name: str) -> None:
    """Refuse decoded values no sensor produces: all equal, mostly missing, or above white.

    values: HxW mosaic or HxWxC planes as stored (black not subtracted).
    """
    sample = values[::3, ::3]
    if sample.size == 0:
        raise InputError(f"{name}: the image has no pixels")
    lo, hi = int(sample.min()), int(sample.max())
    if lo == hi:
        raise InputError(f"{name}: no image data (every pixel is {lo}); the file may be a metadata-only or pruned copy")
    above = float(np.mean(sample > white))
    if above > 0.001:
        raise InputError(f"{name}: impossible values: {above:.1%} of pixels exceed the white level {white}")
    zeros = float(np.mean(sample == 0))
    if (zeros > 0.5 and black > 0) or zeros > 0.9:
        raise InputError(f"{name}: image data missing: {zeros:.1%} of pixels are 0 (black level {black})")


_STDERR_LOCK = threading.Lock()


@contextlib.contextmanager
def captured_stderr(sink: list[str]):
    """Collect what C code writes to file descriptor 2 meanwhile, one stripped line per entry.

    Library prefixes such as "libpng error: " are dropped. Serialised by a lock, since fd 2 is
    one per process.
    """
    with _STDERR_LOCK:
        sys.stderr.flush()
        saved = os.dup(2)
        with tempfile.TemporaryFile() as tmp:
            os.dup2(tmp.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
                os.close(saved)
                tmp.seek(0)
                text = tmp.read().decode("utf-8", "replace")
                sink.extend(line.split(": ", 1)[-1].strip() for line in text.splitlines() if line.strip())
