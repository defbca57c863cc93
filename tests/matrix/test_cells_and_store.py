"""Cell keys follow content, not names; the store is durable, merges, and round-trips values."""

from __future__ import annotations

import math
import shutil
import sqlite3
from dataclasses import replace

import pytest

from isp_viewer.core.errors import InputError
from isp_viewer.core.region import Region
from isp_viewer.matrix import MatrixSpec, Method, ResultStore, TaskResult, WorstRegion, items_from_pairs
from isp_viewer.metrics import ISP_PAPER, SR_PAPER, match_by_name
from tests.matrix.synthetic import write_set


def _spec(folder, methods=("bilinear", "malvar"), conv=ISP_PAPER, cfa="GRBG"):
    items = items_from_pairs(match_by_name(folder, folder), cfa)
    return MatrixSpec(items, tuple(Method("classical", m) for m in methods), ("PSNR", "SSIM"), conv)


def _keys(spec):
    return {(t.item.stem, t.method.label, m): k for t in spec.all_tasks() for m, k in t.cells}


def test_keys_follow_file_content_not_names(tmp_path):
    a = write_set(tmp_path / "a", n=2)
    b = tmp_path / "b"
    b.mkdir()
    shutil.copy(a / "img0.png", b / "renamed0.png")
    shutil.copy(a / "img1.png", b / "renamed1.png")
    ka, kb = _keys(_spec(a)), _keys(_spec(b))
    assert ka[("img0", "malvar", "PSNR")] == kb[("renamed0", "malvar", "PSNR")]
    assert len(set(ka.values())) == len(ka) == 8
    # another protocol, convention or image content: other keys
    assert set(_keys(_spec(a, cfa="RGGB")).values()).isdisjoint(ka.values())
    assert set(_keys(_spec(a, conv=SR_PAPER(2))).values()).isdisjoint(ka.values())
    sr_float = _keys(_spec(a, conv=SR_PAPER(2)))
    sr_matlab = _keys(_spec(a, conv=replace(SR_PAPER(2), y_rounding="matlab")))
    assert set(sr_float.values()).isdisjoint(sr_matlab.values())
    assert _keys(_spec(a, conv=replace(ISP_PAPER, name="renamed"))) == ka   # a display name is not a setting
    shutil.copy(a / "img1.png", b / "renamed0.png")
    assert _keys(_spec(b))[("renamed0", "malvar", "PSNR")] != ka[("img0", "malvar", "PSNR")]


def test_spec_refuses_duplicate_labels_and_empty_matrices(tmp_path):
    folder = write_set(tmp_path / "s", n=1)
    with pytest.raises(InputError, match="named twice"):
        _spec(folder, methods=("malvar", "malvar"))
    with pytest.raises(InputError, match="at least one"):
        MatrixSpec((), (Method("classical", "malvar"),))


def _result(key, value, regions=()):
    return TaskResult(key, "img", "m", "{}", "cpu", 0.5, ((f"c-{key}", "PSNR", "{}", value),), regions)


def test_store_is_wal_full_sync_and_round_trips_values(tmp_path):
    path = tmp_path / "r.db"
    regions = (("rs", "absolute", 8, 2, (WorstRegion(Region(8, 0, 8, 8), 0.5, 0, "absolute"),
                                       WorstRegion(Region(0, 8, 8, 8), 0.25, 1, "absolute"))),)
    with ResultStore(path) as store:
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.db.execute("PRAGMA synchronous").fetchone()[0] == 2   # FULL
        store.put(_result("t1", 31.5, regions))
        store.put(_result("t2", math.inf))
        store.put(_result("t3", math.nan))
    with ResultStore(path) as store:
        values = store.values(["c-t1", "c-t2", "c-t3", "c-missing"])
        assert values["c-t1"] == 31.5 and math.isinf(values["c-t2"]) and math.isnan(values["c-t3"])
        assert "c-missing" not in values
        assert [r.region for r in store.regions("rs")] == [Region(8, 0, 8, 8), Region(0, 8, 8, 8)]
        assert store.task_facts("t1")["device"] == "cpu"


def test_merge_adds_only_new_rows_and_keeps_existing_values(tmp_path):
    with ResultStore(tmp_path / "a.db") as a:
        a.put(_result("t1", 30.0))
    with ResultStore(tmp_path / "b.db") as b:
        b.put(_result("t1", 99.0))   # the same key from another machine: the first one stays
        b.put(_result("t2", 20.0, (("rs", "ssim", 8, 1, (WorstRegion(Region(0, 0, 8, 8), 0.1, 0, "ssim"),)),)))
    with ResultStore(tmp_path / "a.db") as a:
        added = a.merge([tmp_path / "b.db"])
        assert added == {"tasks": 1, "cells": 1, "region_sets": 1}
        assert a.values(["c-t1", "c-t2"]) == {"c-t1": 30.0, "c-t2": 20.0}
        assert a.regions("rs")[0].error == "ssim"
        with pytest.raises(InputError, match="does not exist"):
            a.merge([tmp_path / "nope.db"])


def test_a_file_that_is_not_a_store_is_refused(tmp_path):
    bad = tmp_path / "x.db"
    bad.write_text("not sqlite " * 100)
    with pytest.raises(InputError, match="not a usable results store"):
        ResultStore(bad)
    with pytest.raises(InputError, match="is a folder"):
        ResultStore(tmp_path)
    sqlite3.connect(tmp_path / "ok.db").close()
    ResultStore(tmp_path / "ok.db").close()
