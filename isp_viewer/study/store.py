"""The project database: crops, studies, sessions and ratings in one SQLite file.

Durability: WAL journal with synchronous=FULL and one transaction per change, so a committed
rating survives a SIGKILL of the app (and a power cut): a crash loses at most the rating that was
being written. One connection is shared by all threads and serialised with a lock
(check_same_thread=False is safe because no two threads use it at once); other processes can
read the file while a session writes, thanks to WAL and a busy timeout.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from isp_viewer.core.errors import InputError
from isp_viewer.core.region import Region
from isp_viewer.study.crops import Crop, check_tag, new_id
from isp_viewer.study.design import Protocol, StudyDesign

SCHEMA_VERSION = 1

_SCHEMA_V1 = """
CREATE TABLE crops (
    id TEXT PRIMARY KEY, name TEXT NOT NULL,
    x INTEGER NOT NULL, y INTEGER NOT NULL, w INTEGER NOT NULL, h INTEGER NOT NULL,
    tag TEXT NOT NULL, note TEXT NOT NULL DEFAULT '', created REAL NOT NULL, modified REAL NOT NULL
);
CREATE TABLE studies (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, design_json TEXT NOT NULL, created REAL NOT NULL
);
CREATE TABLE sessions (
    id TEXT PRIMARY KEY, study_id TEXT NOT NULL REFERENCES studies(id),
    observer_id TEXT NOT NULL, started REAL NOT NULL, paused INTEGER NOT NULL DEFAULT 0,
    finished REAL
);
CREATE TABLE ratings (
    session_id TEXT NOT NULL REFERENCES sessions(id), trial_index INTEGER NOT NULL,
    stimulus TEXT NOT NULL, crop_id TEXT NOT NULL, method_id TEXT NOT NULL, method_b TEXT,
    repetition INTEGER NOT NULL, training INTEGER NOT NULL, protocol TEXT NOT NULL,
    rating INTEGER, choice TEXT, response_time REAL, timestamp REAL NOT NULL,
    PRIMARY KEY (session_id, trial_index)
);
CREATE INDEX ratings_by_stimulus ON ratings(stimulus);
"""

# version -> script that upgrades from version-1; add entries, never edit old ones.
_MIGRATIONS: dict[int, str] = {1: _SCHEMA_V1}


@dataclass(frozen=True)
class RatingRecord:
    """One answer, as analysed and exported.

    rating: 1..5 for ACR/DCR (None for pairwise). choice: the chosen method id for pairwise
    (None otherwise); method_id/method_b are the methods shown as A/B. response_time in seconds;
    timestamp in seconds since the epoch (UTC).
    """

    observer: str
    session: str
    study: str
    trial: int
    stimulus: str
    crop_id: str
    method_id: str
    method_b: str | None
    protocol: Protocol
    rating: int | None
    choice: str | None
    response_time: float | None
    timestamp: float
    repetition: int = 0
    training: bool = False


@dataclass(frozen=True)
class SessionInfo:
    id: str
    study_id: str
    observer_id: str
    started: float
    paused: bool
    finished: float | None
    n_ratings: int


class StudyStore:
    """A project database at `path` (created on first use). Use as a context manager or call close()."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        try:
            self._conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False,
                                         timeout=10.0)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as e:
            raise InputError(f"Cannot open the project database {self.path} ({e})") from e

    # --- plumbing -------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> StudyStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One durable transaction: committed (and fsynced) when the block exits, rolled back on error."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _read(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    def _migrate(self) -> None:
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise InputError(f"{self.path.name} was written by a newer ISP Viewer (schema {version}); please update")
        for v in range(version + 1, SCHEMA_VERSION + 1):
            with self._write() as c:
                for statement in _MIGRATIONS[v].split(";"):
                    if statement.strip():
                        c.execute(statement)
                c.execute(f"PRAGMA user_version = {v}")

    @property
    def schema_version(self) -> int:
        return int(self._read("PRAGMA user_version")[0][0])

    # --- crops ----------------------------------------------------------------------------
    @staticmethod
    def _crop_from_row(row: tuple) -> Crop:
        cid, name, x, y, w, h, tag, note, created, modified = row
        return Crop(cid, name, Region(x, y, w, h), tag, note, created, modified)

    def add_crop(self, name: str, region: Region, tag: str = "other", note: str = "") -> Crop:
        crop = Crop.create(name, region, tag, note)
        self.put_crop(crop)
        return crop

    def put_crop(self, crop: Crop) -> None:
        """Insert or replace a crop as given (e.g. one imported with a study)."""
        with self._write() as c:
            c.execute("INSERT OR REPLACE INTO crops VALUES (?,?,?,?,?,?,?,?,?,?)",
                      (crop.id, crop.name, *crop.region.as_tuple(), crop.tag, crop.note, crop.created,
                       crop.modified))

    def crops(self) -> list[Crop]:
        rows = self._read("SELECT id, name, x, y, w, h, tag, note, created, modified FROM crops "
                          "ORDER BY created, rowid")
        return [self._crop_from_row(r) for r in rows]

    def crop(self, crop_id: str) -> Crop:
        rows = self._read("SELECT id, name, x, y, w, h, tag, note, created, modified FROM crops WHERE id=?",
                          (crop_id,))
        if not rows:
            raise InputError(f"No crop with id {crop_id!r} in {self.path.name}")
        return self._crop_from_row(rows[0])

    def update_crop(self, crop_id: str, *, name: str | None = None, tag: str | None = None,
                    note: str | None = None, region: Region | None = None) -> Crop:
        """Change some fields of a crop and write it at once; returns the new value."""
        changes = {k: v for k, v in (("name", name), ("tag", tag), ("note", note), ("region", region))
                   if v is not None}
        if "tag" in changes:
            check_tag(changes["tag"])
        crop = self.crop(crop_id).edited(**changes)
        with self._write() as c:
            c.execute("UPDATE crops SET name=?, x=?, y=?, w=?, h=?, tag=?, note=?, modified=? WHERE id=?",
                      (crop.name, *crop.region.as_tuple(), crop.tag, crop.note, crop.modified, crop.id))
        return crop

    def rename_crop(self, crop_id: str, name: str) -> Crop:
        return self.update_crop(crop_id, name=name)

    def retag_crop(self, crop_id: str, tag: str) -> Crop:
        return self.update_crop(crop_id, tag=tag)

    def set_crop_note(self, crop_id: str, note: str) -> Crop:
        return self.update_crop(crop_id, note=note)

    def delete_crop(self, crop_id: str) -> None:
        """Remove a crop from the project. Studies keep their own copy, so past ratings stay valid."""
        with self._write() as c:
            c.execute("DELETE FROM crops WHERE id=?", (crop_id,))

    # --- studies --------------------------------------------------------------------------
    def save_study(self, design: StudyDesign) -> None:
        """Store a design. A study id is immutable once it has sessions; names may be updated."""
        with self._write() as c:
            row = c.execute("SELECT design_json FROM studies WHERE id=?", (design.study_id,)).fetchone()
            if row is None:
                c.execute("INSERT INTO studies VALUES (?,?,?,?)",
                          (design.study_id, design.name, design.to_json(), time.time()))
            else:
                c.execute("UPDATE studies SET name=?, design_json=? WHERE id=?",
                          (design.name, design.to_json(), design.study_id))

    def study(self, study_id: str) -> StudyDesign:
        rows = self._read("SELECT design_json FROM studies WHERE id=?", (study_id,))
        if not rows:
            raise InputError(f"No study with id {study_id!r} in {self.path.name}")
        return StudyDesign.from_json(rows[0][0])

    def studies(self) -> list[StudyDesign]:
        return [StudyDesign.from_json(r[0]) for r in self._read("SELECT design_json FROM studies ORDER BY created")]

    # --- sessions -------------------------------------------------------------------------
    def create_session(self, study_id: str, observer_id: str) -> str:
        session_id = new_id()
        with self._write() as c:
            c.execute("INSERT INTO sessions (id, study_id, observer_id, started) VALUES (?,?,?,?)",
                      (session_id, study_id, observer_id, time.time()))
        return session_id

    def session_info(self, session_id: str) -> SessionInfo:
        rows = self._read(
            "SELECT s.id, s.study_id, s.observer_id, s.started, s.paused, s.finished, "
            "(SELECT COUNT(*) FROM ratings r WHERE r.session_id = s.id) FROM sessions s WHERE s.id=?",
            (session_id,))
        if not rows:
            raise InputError(f"No session with id {session_id!r} in {self.path.name}")
        sid, study, obs, started, paused, finished, n = rows[0]
        return SessionInfo(sid, study, obs, started, bool(paused), finished, n)

    def sessions(self, study_id: str | None = None, observer_id: str | None = None) -> list[SessionInfo]:
        rows = self._read("SELECT id FROM sessions WHERE (?1 IS NULL OR study_id=?1) AND "
                          "(?2 IS NULL OR observer_id=?2) ORDER BY started, rowid", (study_id, observer_id))
        return [self.session_info(r[0]) for r in rows]

    def set_paused(self, session_id: str, paused: bool) -> None:
        with self._write() as c:
            c.execute("UPDATE sessions SET paused=? WHERE id=?", (int(paused), session_id))

    def set_finished(self, session_id: str) -> None:
        with self._write() as c:
            c.execute("UPDATE sessions SET finished=?, paused=0 WHERE id=?", (time.time(), session_id))

    # --- ratings --------------------------------------------------------------------------
    def add_rating(self, session_id: str, trial_index: int, stimulus: str, crop_id: str, method_id: str,
                   method_b: str | None, repetition: int, training: bool, protocol: Protocol,
                   rating: int | None, choice: str | None, response_time: float | None,
                   timestamp: float) -> None:
        """Write one answer in its own durable transaction. Answering a trial twice is an error."""
        try:
            with self._write() as c:
                c.execute("INSERT INTO ratings VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                          (session_id, trial_index, stimulus, crop_id, method_id, method_b, repetition,
                           int(training), Protocol(protocol).value, rating, choice, response_time, timestamp))
        except sqlite3.IntegrityError as e:
            raise InputError(f"Trial {trial_index} of session {session_id} is already rated") from e

    def rated_indices(self, session_id: str) -> set[int]:
        return {r[0] for r in self._read("SELECT trial_index FROM ratings WHERE session_id=?", (session_id,))}

    def ratings(self, study_id: str | None = None, *, include_training: bool = False,
                session_id: str | None = None) -> list[RatingRecord]:
        """Answers joined with their session's observer, oldest first."""
        rows = self._read(
            "SELECT s.observer_id, r.session_id, s.study_id, r.trial_index, r.stimulus, r.crop_id, r.method_id, "
            "r.method_b, r.protocol, r.rating, r.choice, r.response_time, r.timestamp, r.repetition, r.training "
            "FROM ratings r JOIN sessions s ON s.id = r.session_id "
            "WHERE (?1 IS NULL OR s.study_id=?1) AND (?2 IS NULL OR r.session_id=?2) AND (?3 OR r.training=0) "
            "ORDER BY r.timestamp, r.session_id, r.trial_index",
            (study_id, session_id, int(include_training)))
        return [RatingRecord(o, s, st, t, stim, c, m, mb, Protocol(p), rt, ch, resp, ts, rep, bool(tr))
                for (o, s, st, t, stim, c, m, mb, p, rt, ch, resp, ts, rep, tr) in rows]
