"""The project database: crops written the moment they change, schema versioning, durability settings."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from isp_viewer.core.errors import InputError
from isp_viewer.core.region import Region
from isp_viewer.study.crops import CROP_TAGS, Crop
from isp_viewer.study.store import SCHEMA_VERSION, StudyStore


@pytest.fixture
def store(tmp_path: Path):
    with StudyStore(tmp_path / "project.db") as s:
        yield s


def _reopened(store: StudyStore) -> list[Crop]:
    """What another process would read right now (a separate connection)."""
    with StudyStore(store.path) as other:
        return other.crops()


def test_crop_edits_are_written_at_once(store: StudyStore) -> None:
    a = store.add_crop("zipper fence", Region(10, 20, 64, 48), "zippering", "left edge")
    b = store.add_crop("sky", Region(0, 0, 32, 32))
    assert [(c.id, c.name, c.region, c.tag, c.note) for c in _reopened(store)] == [
        (a.id, "zipper fence", Region(10, 20, 64, 48), "zippering", "left edge"),
        (b.id, "sky", Region(0, 0, 32, 32), "other", "")]

    renamed = store.rename_crop(a.id, "fence")
    assert renamed.modified >= a.modified and renamed.created == a.created
    store.retag_crop(a.id, "moiré")
    store.set_crop_note(a.id, "strong moiré on the railings")
    got = {c.id: c for c in _reopened(store)}
    assert (got[a.id].name, got[a.id].tag, got[a.id].note) == ("fence", "moiré", "strong moiré on the railings")

    store.delete_crop(b.id)
    assert [c.id for c in _reopened(store)] == [a.id]


def test_crop_values_are_checked(store: StudyStore) -> None:
    assert "false colour" in CROP_TAGS and len(CROP_TAGS) == 7
    with pytest.raises(InputError, match="Unknown crop tag"):
        store.add_crop("x", Region(0, 0, 4, 4), "banding")
    a = store.add_crop("x", Region(0, 0, 4, 4))
    with pytest.raises(InputError, match="Unknown crop tag"):
        store.retag_crop(a.id, "nope")
    with pytest.raises(InputError, match="empty region"):
        store.add_crop("empty", Region(0, 0, 0, 4))
    with pytest.raises(InputError, match="No crop"):
        store.rename_crop("missing", "y")


def test_durability_pragmas_and_schema_version(store: StudyStore) -> None:
    con = sqlite3.connect(store.path)
    try:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == store.schema_version
    finally:
        con.close()
    # synchronous is per connection: FULL (2) on the store's own.
    assert store._read("PRAGMA synchronous")[0][0] == 2


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.commit()
    con.close()
    with pytest.raises(InputError, match="newer ISP Viewer"):
        StudyStore(path)


def test_store_can_be_used_from_worker_threads(store: StudyStore) -> None:
    errors: list[BaseException] = []

    def add(k: int) -> None:
        try:
            for i in range(5):
                store.add_crop(f"t{k}-{i}", Region(i, k, 4, 4))
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=add, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(store.crops()) == 20
