"""Exports: long CSV that reloads to the same analysis, sureal dataset (checked with sureal when it is
installed), pwcmp comparison matrix, analysis table."""

from __future__ import annotations

import csv
import runpy
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from isp_viewer.core.region import Region
from isp_viewer.study.analysis import analyse, scores_from_records, screen_bt500
from isp_viewer.study.crops import Crop
from isp_viewer.study.design import Method, Protocol, ReferenceMode, StudyDesign, TrainingItem
from isp_viewer.study.exports import (
    read_ratings_csv,
    write_analysis_csv,
    write_pwcmp_matrix,
    write_ratings_csv,
    write_sureal_dataset,
)
from isp_viewer.study.session import RatingSession
from isp_viewer.study.store import RatingRecord, StudyStore

CROPS = (Crop("c0", "fence", Region(0, 0, 8, 8), "moiré"), Crop("c1", "sky", Region(8, 0, 8, 8), "noise"),
         Crop("c2", "text", Region(0, 8, 8, 8), "ringing"))
METHODS = tuple(Method(f"m{i}", f"Method {i}") for i in range(4))
QUALITY = {"m0": 4.4, "m1": 3.6, "m2": 2.7, "m3": 1.8, "ref": 4.8}


def _run_acr(store: StudyStore, design: StudyDesign, observers: list[str], seed: int = 0) -> None:
    """Simulated observers: rating = round(quality + noise), through real sessions."""
    rng = np.random.default_rng(seed)
    for obs in observers:
        s = RatingSession.start(store, design, obs)
        while not s.finished:
            t = s.current
            s.record(int(np.clip(round(QUALITY[t.method_id] + rng.normal(0, 0.7)), 1, 5)),
                     response_time=float(rng.uniform(0.5, 3.0)))


@pytest.fixture
def store(tmp_path: Path):
    with StudyStore(tmp_path / "p.db") as s:
        yield s


def test_long_csv_reloads_to_the_same_analysis(store: StudyStore, tmp_path: Path) -> None:
    design = StudyDesign(CROPS, METHODS, reference=Method("ref", "Reference"), reference_mode=ReferenceMode.HIDDEN,
                         repetitions=2, training=(TrainingItem("c0", "m0"),), grey_interval_s=0)
    _run_acr(store, design, ["ann", "bob", "cyd", "dee"])
    records = store.ratings(design.study_id, include_training=True)
    assert len(records) == 4 * (1 + 3 * 5 * 2)
    write_ratings_csv(tmp_path / "ratings.csv", records)
    with open(tmp_path / "ratings.csv", newline="") as f:
        header = next(csv.reader(f))
    for col in ("observer", "session", "stimulus", "crop", "method", "protocol", "rating", "choice",
                "response_time_s", "timestamp"):
        assert col in header
    back = read_ratings_csv(tmp_path / "ratings.csv")
    assert [replace(r, timestamp=0.0) for r in back] == [replace(r, timestamp=0.0) for r in records]
    assert max(abs(a.timestamp - b.timestamp) for a, b in zip(back, records)) < 1e-5

    direct, reloaded = analyse(design, records), analyse(design, back)
    assert direct.per_method == reloaded.per_method and direct.per_method_crop == reloaded.per_method_crop
    assert direct.per_method_z == reloaded.per_method_z and direct.per_method_dmos == reloaded.per_method_dmos
    assert [r.method_id for r in direct.per_method] == ["m0", "m1", "m2", "m3", "ref"]
    assert [r.n for r in direct.per_method] == [24] * 5  # 4 observers x 3 crops x 2 repetitions
    assert direct.per_method[0].mos > direct.per_method[3].mos
    write_analysis_csv(tmp_path / "a1.csv", design, direct)
    write_analysis_csv(tmp_path / "a2.csv", design, reloaded)
    assert (tmp_path / "a1.csv").read_text() == (tmp_path / "a2.csv").read_text()
    with open(tmp_path / "a1.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    first = next(r for r in rows if r["table"] == "mos" and r["method"] == "m0")
    assert float(first["score"]) == direct.per_method[0].mos and first["label"] == "Method 0"
    assert {r["table"] for r in rows} == {"mos", "mos_by_crop", "z_mos", "dmos"}
    assert sum(r["table"] == "mos_by_crop" for r in rows) == 15


def _pairwise_records(store: StudyStore, design: StudyDesign, observers: list[str]) -> list[RatingRecord]:
    rng = np.random.default_rng(4)
    for obs in observers:
        s = RatingSession.start(store, design, obs)
        while not s.finished:
            t = s.current
            p_a = 1 / (1 + np.exp(QUALITY[t.method_b] - QUALITY[t.method_id]))
            s.record("A" if rng.random() < p_a else "B")
    return store.ratings(design.study_id)


def test_pwcmp_matrix_and_pairwise_reload(store: StudyStore, tmp_path: Path) -> None:
    design = StudyDesign(CROPS[:2], METHODS[:3], protocol=Protocol.PAIRWISE, repetitions=2)
    records = _pairwise_records(store, design, ["ann", "bob", "cyd"])
    assert len(records) == 3 * 2 * 3 * 2
    write_pwcmp_matrix(tmp_path / "m.csv", design, records)
    write_pwcmp_matrix(tmp_path / "bare.csv", design, records, labels=False)
    with open(tmp_path / "m.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["", "Method 0", "Method 1", "Method 2"]
    counts = np.array([[int(v) for v in r[1:]] for r in rows[1:]])
    expected = np.zeros((3, 3), int)
    for r in records:
        winner = int(r.choice[1])
        loser = int((r.method_b if r.choice == r.method_id else r.method_id)[1])
        expected[winner, loser] += 1
    np.testing.assert_array_equal(counts, expected)
    assert counts.sum() == len(records) and np.all(np.diag(counts) == 0)
    assert np.all(counts + counts.T == (np.ones((3, 3), int) - np.eye(3, dtype=int)) * 3 * 2 * 2)
    np.testing.assert_array_equal(np.loadtxt(tmp_path / "bare.csv", delimiter=",", dtype=int), counts)

    write_ratings_csv(tmp_path / "r.csv", records)
    a, b = analyse(design, records, n_boot=40), analyse(design, read_ratings_csv(tmp_path / "r.csv"), n_boot=40)
    np.testing.assert_array_equal(a.bradley_terry.scores, b.bradley_terry.scores)
    np.testing.assert_array_equal(a.bradley_terry.ci_low, b.bradley_terry.ci_low)
    np.testing.assert_array_equal(a.thurstone.ci_high, b.thurstone.ci_high)
    np.testing.assert_array_equal(a.matrix, counts)


def _panel_records(design: StudyDesign) -> list[RatingRecord]:
    """The screening panel of test_analysis as records: 16 consistent observers, one inconsistent
    ('zz'), one consistently harsh; 3 crops x 4 methods, one repetition."""
    pattern = [2] * 4 + [3] * 8 + [4] * 4
    out = []
    for j, (crop, method) in enumerate((c.id, m.id) for c in design.crops for m in design.methods):
        values = {f"o{k:02d}": pattern[(k + 5 * j) % 16] for k in range(16)}
        values["zz"] = 5 if j % 2 == 0 else 1
        values["harsh"] = 1 if j % 2 == 0 else 2
        for obs, v in values.items():
            out.append(RatingRecord(obs, f"s-{obs}", design.study_id, j, f"{crop}/{method}", crop, method, None,
                                    Protocol.ACR, v, None, 1.0, 1_700_000_000.0 + j))
    return out


def test_sureal_dataset_file_is_a_python_dataset(tmp_path: Path) -> None:
    design = StudyDesign(CROPS, METHODS)
    records = _panel_records(design)
    write_sureal_dataset(tmp_path / "ds.py", design, records)
    ns = runpy.run_path(str(tmp_path / "ds.py"))
    assert [v["content_id"] for v in ns["ref_videos"]] == [0, 1, 2]
    assert len(ns["dis_videos"]) == 12 and ns["ref_score"] == 5.0
    first = ns["dis_videos"][0]
    assert (first["asset_id"], first["content_id"], first["method"]) == (0, 0, "m0")
    assert first["os"]["zz"] == 5 and first["os"]["harsh"] == 1 and len(first["os"]) == 18


def _sureal_model(path: Path, cls_name: str):
    sm = pytest.importorskip("sureal.subjective_model", reason="sureal is not installed (pip install sureal)")
    with warnings.catch_warnings():
        # sureal loads dataset files with the deprecated importlib load_module().
        warnings.simplefilter("ignore", DeprecationWarning)
        model = getattr(sm, cls_name).from_dataset_file(str(path))
    with warnings.catch_warnings():
        # sureal divides 0/0 for observers with no outliers (P+Q = 0).
        warnings.simplefilter("ignore", RuntimeWarning)
        return model.run_modeling()


def test_mos_and_screening_agree_with_sureal(tmp_path: Path) -> None:
    design = StudyDesign(CROPS, METHODS, repetitions=1)
    records = _panel_records(design)
    path = tmp_path / "panel.py"
    write_sureal_dataset(path, design, records)

    ours = analyse(design, records, exclude_rejected=False)
    theirs = _sureal_model(path, "MosModel")
    # sureal's assets are crop-major (crop x method), ours are method-major: line them up.
    by_key = {(r.crop_id, r.method_id): r for r in ours.per_method_crop}
    keys = [(c.id, m.id) for c in design.crops for m in design.methods]
    np.testing.assert_allclose(theirs["quality_scores"], [by_key[k].mos for k in keys], rtol=0, atol=1e-12)
    # sureal's quality_scores_std is the standard error std/sqrt(n); our CI is t * that.
    np.testing.assert_allclose(theirs["quality_scores_std"], [by_key[k].std / np.sqrt(by_key[k].n) for k in keys],
                               atol=1e-12)

    rejected = _sureal_model(path, "SubjrejMosModel")
    screening = screen_bt500(scores_from_records(records), ddof=0)  # sureal uses the population std
    observers = rejected["observers"]
    assert [o for o, r in zip(observers, rejected["observer_rejected"]) if r] == list(screening.rejected) == ["zz"]
    np.testing.assert_allclose(rejected["observer_rejected_1st_stats"], [screening.ratio[o] for o in observers])
    np.testing.assert_allclose(rejected["observer_rejected_2nd_stats"], [screening.asymmetry[o] for o in observers])
    # MOS after rejection agrees too.
    kept = analyse(design, records)
    by_key = {(r.crop_id, r.method_id): r.mos for r in kept.per_method_crop}
    np.testing.assert_allclose(rejected["quality_scores"], [by_key[k] for k in keys], atol=1e-12)


def test_mos_with_repetitions_agrees_with_sureal(store: StudyStore, tmp_path: Path) -> None:
    design = StudyDesign(CROPS[:2], METHODS[:3], repetitions=2, grey_interval_s=0)
    _run_acr(store, design, ["a", "b", "c"], seed=9)
    records = store.ratings(design.study_id)
    write_sureal_dataset(tmp_path / "rep.py", design, records)
    theirs = _sureal_model(tmp_path / "rep.py", "MosModel")
    ours = {(r.crop_id, r.method_id): r.mos for r in analyse(design, records).per_method_crop}
    keys = [(c.id, m.id) for c in design.crops for m in design.methods]
    np.testing.assert_allclose(theirs["quality_scores"], [ours[k] for k in keys], atol=1e-12)


def test_pairwise_sureal_dataset_reads_back_the_counts(store: StudyStore, tmp_path: Path) -> None:
    design = StudyDesign(CROPS[:1], METHODS[:3], protocol=Protocol.PAIRWISE, repetitions=2)
    records = _pairwise_records(store, design, ["ann", "bob"])
    write_sureal_dataset(tmp_path / "pc.py", design, records)
    dr = pytest.importorskip("sureal.dataset_reader", reason="sureal is not installed (pip install sureal)")
    ns = runpy.run_path(str(tmp_path / "pc.py"))

    class Dataset:  # what sureal's import_python_file returns: a module-like namespace
        pass

    ds = Dataset()
    ds.__dict__.update({k: v for k, v in ns.items() if not k.startswith("__")})
    reader = dr.PairedCompDatasetReader(ds)
    wins = np.nansum(reader.opinion_score_3darray, axis=2)  # [i, j] = times asset i beat asset j
    ours = analyse(design, records, n_boot=0).matrix
    np.testing.assert_array_equal(wins, ours)
