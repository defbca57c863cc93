"""Camera make/model through LibRaw's C API (rawpy does not expose them).

rawpy ships LibRaw as a shared library; we open the file a second time with `libraw_open_file`
(header only, cheap) and read the first fields of `libraw_iparams_t`. Any failure just means the
names are unknown: this is metadata, never a reason to refuse a file.
"""

from __future__ import annotations

import ctypes
import os
from functools import lru_cache
from pathlib import Path


class _IParamsHead(ctypes.Structure):
    # Leading fields of libraw_iparams_t (stable since LibRaw 0.14).
    _fields_ = [("guard", ctypes.c_char * 4), ("make", ctypes.c_char * 64), ("model", ctypes.c_char * 64)]


@lru_cache(maxsize=1)
def _library() -> ctypes.CDLL | None:
    try:
        import rawpy

        folder = Path(rawpy.__file__).parent
        candidates = [found for pattern in ("libraw_r.so*", "libraw*.dylib", "libraw*.dll")
                      for found in sorted(folder.glob(pattern))]
        lib = ctypes.CDLL(str(candidates[0])) if candidates else ctypes.CDLL("libraw_r.so")
    except (OSError, IndexError, ImportError):
        return None
    lib.libraw_init.restype = ctypes.c_void_p
    lib.libraw_init.argtypes = [ctypes.c_uint]
    lib.libraw_open_file.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.libraw_open_file.restype = ctypes.c_int
    lib.libraw_get_iparams.argtypes = [ctypes.c_void_p]
    lib.libraw_get_iparams.restype = ctypes.POINTER(_IParamsHead)
    lib.libraw_close.argtypes = [ctypes.c_void_p]
    return lib


def camera_make_model(path: str | Path) -> tuple[str, str]:
    """('Blackmagic', 'Pocket Cinema Camera 4K') or ('', '') when unknown."""
    lib = _library()
    if lib is None:
        return "", ""
    handle = lib.libraw_init(0)
    if not handle:
        return "", ""
    try:
        if lib.libraw_open_file(handle, os.fsencode(str(path))) != 0:
            return "", ""
        params = lib.libraw_get_iparams(handle).contents
        return params.make.decode("utf-8", "replace").strip(), params.model.decode("utf-8", "replace").strip()
    finally:
        lib.libraw_close(handle)
