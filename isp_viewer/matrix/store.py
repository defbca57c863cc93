"""The results store: one SQLite file of finished cells and worst regions, keyed by content.

Durability: WAL journal with synchronous=FULL, and one transaction per finished task, so a killed
run keeps every task it had finished and loses only those in flight. Writers are the driver of a
run (local or Ray: workers stream results back to it), so one connection writes at a time;
readers (a window listing cells) may read while it writes. `merge` copies another store's rows
in; equal keys mean equal inputs, so rows already present are kept.
"""

from __future__ import annotations

import json
import math
import socket
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from isp_viewer.core.errors import InputError
from isp_viewer.core.region import Region

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tasks (
    key TEXT PRIMARY KEY, image TEXT NOT NULL, method TEXT NOT NULL, value TEXT NOT NULL,
    device TEXT NOT NULL, seconds REAL NOT NULL, host TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS cells (
    key TEXT PRIMARY KEY, task TEXT NOT NULL, metric TEXT NOT NULL, convention TEXT NOT NULL, value REAL);
CREATE TABLE IF NOT EXISTS region_sets (
    key TEXT PRIMARY KEY, task TEXT NOT NULL, error TEXT NOT NULL, window INTEGER NOT NULL, k INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS regions (
    region_set TEXT NOT NULL, rank INTEGER NOT NULL, x INTEGER NOT NULL, y INTEGER NOT NULL,
    w INTEGER NOT NULL, h INTEGER NOT NULL, value REAL NOT NULL, PRIMARY KEY (region_set, rank));
CREATE INDEX IF NOT EXISTS cells_task ON cells(task);
CREATE INDEX IF NOT EXISTS region_sets_task ON region_sets(task);
"""


@dataclass(frozen=True)
class WorstRegion:
    """rank 0 is the worst; value: the window's mean error; error: "absolute" or "ssim"."""

    region: Region
    value: float
    rank: int
    error: str


@dataclass(frozen=True)
class TaskResult:
    """What a worker sends back for one Task: values per cell key, regions per region-set key."""

    task_key: str
    image: str
    method: str
    method_value: str
    device: str
    seconds: float
    cells: tuple[tuple[str, str, str, float], ...]           # (cell key, metric, convention, value)
    regions: tuple[tuple[str, str, int, int, tuple[WorstRegion, ...]], ...] = ()  # (key, error, window, k, regions)
    host: str = ""


class ResultStore:
    """Open (creating) a store; use as a context manager or call close()."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise InputError(f"the results store {self.path} is a folder; name a file such as results.db")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(_SCHEMA)
            self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{self.path.name}: not a usable results store ({exc})") from None
        found = self.db.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone()[0]
        if found != str(SCHEMA_VERSION):
            raise InputError(f"{self.path.name}: results store schema {found}, this version reads {SCHEMA_VERSION}")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- writing ------------------------------------------------------------------------------

    def put(self, result: TaskResult) -> None:
        """All of one task's rows in one durable transaction."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("INSERT OR REPLACE INTO tasks VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (result.task_key, result.image, result.method, result.method_value, result.device,
                        float(result.seconds), result.host or socket.gethostname(), time.time()))
            db.executemany("INSERT OR REPLACE INTO cells VALUES (?, ?, ?, ?, ?)",
                           [(key, result.task_key, metric, conv, _sql_number(value))
                            for key, metric, conv, value in result.cells])
            for key, error, window, k, regions in result.regions:
                db.execute("INSERT OR REPLACE INTO region_sets VALUES (?, ?, ?, ?, ?)",
                           (key, result.task_key, error, window, k))
                db.execute("DELETE FROM regions WHERE region_set = ?", (key,))
                db.executemany("INSERT INTO regions VALUES (?, ?, ?, ?, ?, ?, ?)",
                               [(key, r.rank, r.region.x, r.region.y, r.region.w, r.region.h, float(r.value))
                                for r in regions])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def merge(self, others: Iterable[str | Path]) -> dict[str, int]:
        """Copy the rows of other stores (e.g. from other machines) in; {table: rows added}."""
        added = {"tasks": 0, "cells": 0, "region_sets": 0}
        for other in others:
            other = Path(other)
            if not other.is_file():
                raise InputError(f"--merge: {other} does not exist")
            ResultStore(other).close()   # the same schema, or a clear error
            db = self.db
            db.execute("ATTACH DATABASE ? AS other", (str(other),))
            try:
                db.execute("BEGIN IMMEDIATE")
                for table in ("tasks", "cells", "region_sets"):
                    before = db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                    db.execute(f"INSERT OR IGNORE INTO {table} SELECT * FROM other.{table}")
                    added[table] += db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] - before
                db.execute("INSERT OR IGNORE INTO regions SELECT * FROM other.regions")
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            finally:
                db.execute("DETACH DATABASE other")
        return added

    # --- reading ------------------------------------------------------------------------------

    def known_cells(self, keys: Sequence[str]) -> set[str]:
        return self._known("cells", keys)

    def known_region_sets(self, keys: Sequence[str]) -> set[str]:
        return self._known("region_sets", keys)

    def values(self, keys: Sequence[str]) -> dict[str, float]:
        """{cell key: value} for the keys present (NaN for a stored NULL)."""
        out: dict[str, float] = {}
        for chunk in _chunks(list(keys)):
            marks = ",".join("?" * len(chunk))
            for key, value in self.db.execute(f"SELECT key, value FROM cells WHERE key IN ({marks})", chunk):
                out[key] = float("nan") if value is None else float(value)
        return out

    def task_facts(self, task_key: str) -> dict | None:
        row = self.db.execute("SELECT image, method, value, device, seconds, host, created FROM tasks WHERE key = ?",
                              (task_key,)).fetchone()
        if row is None:
            return None
        names = ("image", "method", "value", "device", "seconds", "host", "created")
        facts = dict(zip(names, row))
        facts["value"] = json.loads(facts["value"])
        return facts

    def regions(self, region_set_key: str) -> list[WorstRegion]:
        row = self.db.execute("SELECT error FROM region_sets WHERE key = ?", (region_set_key,)).fetchone()
        if row is None:
            return []
        return [WorstRegion(Region(x, y, w, h), value, rank, row[0]) for rank, x, y, w, h, value in
                self.db.execute("SELECT rank, x, y, w, h, value FROM regions WHERE region_set = ? ORDER BY rank",
                                (region_set_key,))]

    def count(self, table: str = "cells") -> int:
        if table not in ("tasks", "cells", "region_sets", "regions"):
            raise ValueError(table)
        return int(self.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    def _known(self, table: str, keys: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks(list(keys)):
            marks = ",".join("?" * len(chunk))
            found.update(k for (k,) in self.db.execute(f"SELECT key FROM {table} WHERE key IN ({marks})", chunk))
        return found


def _chunks(keys: list[str], size: int = 500) -> Iterable[list[str]]:
    for i in range(0, len(keys), size):
        yield keys[i:i + size]


def _sql_number(value: float) -> float | None:
    return None if math.isnan(value) else float(value)   # NaN is stored as NULL; inf stays inf
