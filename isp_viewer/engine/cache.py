"""Finished network outputs on disk, so that re-opening a photo does not re-run its networks.

One entry per key: `<key>.npy` (the output, written with allow_pickle=False) and `<key>.json`
(the run's metadata). The JSON is written last, so an entry exists exactly when its JSON does.
The key is the sha256 of everything that decides the output (`cache_key`). Entries are evicted
least-recently-used first (a hit refreshes the entry's modification time) once the directory
exceeds `max_bytes`.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_MAX_BYTES = 2 * 1024 ** 3


def default_cache_dir() -> Path:
    env = os.environ.get("ISPV_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "isp-viewer" / "results"


def cache_key(input_hash: str, spec_id: str, weights_sha256: str, options: str, engine_version: str,
              **extra: Any) -> str:
    """sha256 of the input hash, network id, weights sha256, options fingerprint and engine version
    (plus `extra` facts that change the output, such as the precision)."""
    payload = {"input": input_hash, "spec": spec_id, "weights": weights_sha256, "options": options,
               "engine": engine_version, **extra}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


class ResultCache:
    """Thread-safe within a process; writes are atomic renames, so concurrent processes only
    ever see whole entries."""

    def __init__(self, directory: str | Path | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        self.max_bytes = int(max_bytes)
        self._lock = threading.Lock()
        self._last_touch = 0

    def _paths(self, key: str) -> tuple[Path, Path]:
        if not key or any(c not in "0123456789abcdef" for c in key):
            raise ValueError(f"not a cache key: {key!r}")
        return self.directory / f"{key}.npy", self.directory / f"{key}.json"

    def contains(self, key: str) -> bool:
        return self._paths(key)[1].is_file()

    def get(self, key: str) -> tuple[np.ndarray, dict[str, Any]] | None:
        """(output, metadata) or None; a hit becomes the most recently used entry."""
        npy, meta_path = self._paths(key)
        with self._lock:
            try:
                meta = json.loads(meta_path.read_text())
                array = np.load(npy, allow_pickle=False)
            except (OSError, ValueError):  # absent, half-evicted or damaged: drop it and recompute
                self._remove(key)
                return None
            self._touch(npy, meta_path)
        return array, meta

    def put(self, key: str, array: np.ndarray, meta: Mapping[str, Any]) -> bool:
        """Store an entry (False when it alone exceeds max_bytes), then evict down to max_bytes."""
        npy, meta_path = self._paths(key)
        array = np.ascontiguousarray(array)
        if array.nbytes > self.max_bytes:
            return False
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._write_atomic(npy, lambda f: np.save(f, array, allow_pickle=False))
            text = json.dumps(dict(meta), sort_keys=True, default=str).encode()
            self._write_atomic(meta_path, lambda f: f.write(text))
            self._touch(npy, meta_path)
            self._evict(keep=key)
        return True

    def clear(self) -> None:
        with self._lock:
            if not self.directory.is_dir():
                return
            for path in self.directory.iterdir():
                if path.suffix in (".npy", ".json", ".tmp") and path.is_file():
                    path.unlink(missing_ok=True)

    def entries(self) -> list[tuple[str, float, int]]:
        """(key, last use as a POSIX time, bytes) of every complete entry, oldest use first."""
        out: list[tuple[str, float, int]] = []
        if not self.directory.is_dir():
            return out
        for meta_path in self.directory.glob("*.json"):
            npy = meta_path.with_suffix(".npy")
            try:
                stat = meta_path.stat()
                size = stat.st_size + npy.stat().st_size
            except FileNotFoundError:
                continue
            out.append((meta_path.stem, stat.st_mtime_ns / 1e9, size))
        return sorted(out, key=lambda e: e[1])

    def size_bytes(self) -> int:
        return sum(size for _, _, size in self.entries())

    # --- internals (called with the lock held) ----------------------------------------------

    def _write_atomic(self, path: Path, write) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=path.stem[:16], suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                write(f)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _touch(self, *paths: Path) -> None:
        # Strictly increasing stamps: two uses within the clock's resolution still order correctly.
        now = max(time.time_ns(), self._last_touch + 1)
        self._last_touch = now
        for p in paths:
            os.utime(p, ns=(now, now))

    def _remove(self, key: str) -> None:
        for p in self._paths(key):
            p.unlink(missing_ok=True)

    def _evict(self, keep: str) -> None:
        entries = self.entries()
        total = sum(size for _, _, size in entries)
        for key, _, size in entries:
            if total <= self.max_bytes:
                break
            if key == keep:
                continue
            self._remove(key)
            total -= size
