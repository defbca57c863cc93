"""Study results as files other tools read.

- long-format CSV: one row per answer; `read_ratings_csv` loads it back into `RatingRecord`s that
  analyse to the same numbers;
- a sureal dataset (Netflix `sureal`'s Python dataset format: ref_videos / dis_videos with
  per-observer opinion scores) for ACR/DCR, or its paired-comparison variant for 2AFC;
- a pwcmp comparison matrix (Mantiuk's pw_scale: C[i, j] = times row i was preferred over column j);
- the analysis table.
"""

from __future__ import annotations

import csv
import math
import pprint
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path

from isp_viewer.core.errors import InputError
from isp_viewer.study.analysis import StudyAnalysis, comparison_matrix, comparisons_from_records
from isp_viewer.study.design import Protocol, StudyDesign
from isp_viewer.study.store import RatingRecord

RATING_COLUMNS = ("observer", "session", "study", "trial", "stimulus", "crop", "method", "method_b", "protocol",
                  "rating", "choice", "response_time_s", "timestamp", "repetition", "training")


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat(timespec="microseconds")


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


# --- long-format ratings --------------------------------------------------------------------
def write_ratings_csv(path: str | Path, records: Iterable[RatingRecord]) -> None:
    """One row per answer. `rating` (1-5) is empty for pairwise, `choice` (a method id) empty for
    ACR/DCR; `method`/`method_b` are the methods shown (as A/B in pairwise); timestamp is ISO 8601 UTC;
    response times are written with repr() so that they read back bit for bit."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(RATING_COLUMNS)
        for r in records:
            w.writerow([r.observer, r.session, r.study, r.trial, r.stimulus, r.crop_id, r.method_id,
                        r.method_b or "", r.protocol.value, "" if r.rating is None else r.rating, r.choice or "",
                        "" if r.response_time is None else repr(r.response_time), _iso(r.timestamp),
                        r.repetition, int(r.training)])


def read_ratings_csv(path: str | Path) -> list[RatingRecord]:
    """Inverse of write_ratings_csv (columns may come in any order; extra columns are ignored)."""
    out = []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = set(RATING_COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise InputError(f"{Path(path).name} is not a ratings CSV (missing columns: {', '.join(sorted(missing))})")
        for line, row in enumerate(reader, start=2):
            try:
                out.append(RatingRecord(
                    observer=row["observer"], session=row["session"], study=row["study"], trial=int(row["trial"]),
                    stimulus=row["stimulus"], crop_id=row["crop"], method_id=row["method"],
                    method_b=row["method_b"] or None, protocol=Protocol(row["protocol"]),
                    rating=int(row["rating"]) if row["rating"] else None, choice=row["choice"] or None,
                    response_time=float(row["response_time_s"]) if row["response_time_s"] else None,
                    timestamp=_epoch(row["timestamp"]), repetition=int(row["repetition"]),
                    training=row["training"] == "1"))
            except (ValueError, KeyError) as e:
                raise InputError(f"{Path(path).name}, line {line}: {e}") from e
    return out


# --- sureal ------------------------------------------------------------------------------------
def _asset_path(crop_id: str, method_id: str) -> str:
    return f"{crop_id}__{method_id}.png"


def sureal_dataset_text(design: StudyDesign, records: Sequence[RatingRecord]) -> str:
    """A Python source file in sureal's dataset format.

    Contents are crops (content_id), assets are crop x method (asset_id). ACR/DCR: each dis_video
    has 'os' = {observer: score or [scores per repetition]}, loadable with
    sureal's RawDatasetReader (MosModel, SubjrejMosModel, MLE models...). The reference crop path is
    '<crop>__<reference>.png' only if the reference is a rated condition (so sureal's DMOS works);
    otherwise a path no asset uses. Pairwise: 'os' = {(observer, other asset_id): 1 if this asset won,
    0 if it lost} for sureal's PairedCompDatasetReader; repeated judgements of the same pair by the
    same observer are keyed 'observer#r<k>' since sureal keeps one answer per key.
    """
    records = [r for r in records if not r.training]
    crops = list(design.crops)
    methods = list(design.conditions)
    ref_id = design.reference.id if design.reference else None
    ref_videos = [{"content_id": ci, "content_name": c.name,
                   "path": _asset_path(c.id, ref_id) if ref_id in methods else f"{c.id}__reference.png"}
                  for ci, c in enumerate(crops)]
    assets = [(ci, c.id, m) for ci, c in enumerate(crops) for m in methods]
    asset_index = {(cid, m): ai for ai, (_, cid, m) in enumerate(assets)}
    opinion: list[dict] = [{} for _ in assets]
    if design.protocol is Protocol.PAIRWISE:
        seen: dict[tuple, int] = {}
        for r in records:
            if r.choice is None or r.method_b is None:
                continue
            a, b = asset_index[(r.crop_id, r.method_id)], asset_index[(r.crop_id, r.method_b)]
            pair = (r.observer, min(a, b), max(a, b))
            k = seen.get(pair, 0)
            seen[pair] = k + 1
            who = r.observer if k == 0 else f"{r.observer}#r{k + 1}"
            won_a = r.choice == r.method_id
            # One entry per judgement, stored on the first asset of the pair (sureal fills both halves).
            opinion[a][(who, b)] = 1 if won_a else 0
    else:
        per: dict[tuple[int, str], list[int]] = {}
        for r in sorted(records, key=lambda r: (r.observer, r.repetition, r.timestamp)):
            if r.rating is None:
                continue
            per.setdefault((asset_index[(r.crop_id, r.method_id)], r.observer), []).append(r.rating)
        for (ai, obs), vals in per.items():
            opinion[ai][obs] = vals[0] if len(vals) == 1 else vals
    keep = [ai for ai in range(len(assets)) if opinion[ai] or design.protocol is Protocol.PAIRWISE]
    # Unrated stimuli (an unfinished study) would be all-NaN rows for sureal: leave them out.
    # Pairwise keys refer to asset ids, so there every asset stays.
    dis_videos = [{"asset_id": new_id, "content_id": assets[ai][0], "path": _asset_path(assets[ai][1], assets[ai][2]),
                   "method": assets[ai][2], "os": opinion[ai]} for new_id, ai in enumerate(keep)]
    lines = [f"# sureal dataset exported by ISP Viewer: study {design.name!r} ({design.study_id}), "
             f"protocol {design.protocol.value}",
             f"dataset_name = {design.name!r}"]
    if design.protocol is not Protocol.PAIRWISE:
        lines.append("ref_score = 5.0")  # top of the 5-point scale, for sureal's differential scores
    lines += ["", "ref_videos = " + pprint.pformat(ref_videos), "", "dis_videos = " + pprint.pformat(dis_videos), ""]
    return "\n".join(lines)


def write_sureal_dataset(path: str | Path, design: StudyDesign, records: Sequence[RatingRecord]) -> None:
    Path(path).write_text(sureal_dataset_text(design, records), encoding="utf-8")


# --- pwcmp -------------------------------------------------------------------------------------
def write_pwcmp_matrix(path: str | Path, design: StudyDesign, records: Sequence[RatingRecord], *,
                       labels: bool = True) -> None:
    """The comparison matrix pw_scale reads: C[i, j] = times method i was preferred over method j,
    rows and columns in design.conditions order. labels=True adds a header row and a first column of
    method labels; labels=False writes the bare numeric matrix (csvread-ready)."""
    ids = list(design.conditions)
    c = comparison_matrix(comparisons_from_records(records), ids)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        if labels:
            w.writerow([""] + [design.label(m) for m in ids])
        for i, m in enumerate(ids):
            w.writerow(([design.label(m)] if labels else []) + [int(v) for v in c[i]])


# --- analysis table ----------------------------------------------------------------------------
ANALYSIS_COLUMNS = ("table", "method", "label", "crop", "crop_name", "n", "score", "std", "ci_low", "ci_high")


def _num(x: float) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else repr(float(x))


def analysis_rows(design: StudyDesign, analysis: StudyAnalysis) -> list[list[str]]:
    """The analysis as rows of ANALYSIS_COLUMNS; `table` says which estimate a row holds
    (mos, mos_by_crop, z_mos, dmos, bradley_terry, thurstone; write_analysis_csv adds
    rejected_observer rows with the observer id under `label`)."""
    rows: list[list[str]] = []
    crop_names = {c.id: c.name for c in design.crops}

    def add_mos(kind: str, mos_rows: Iterable) -> None:
        for r in mos_rows:
            rows.append([kind, r.method_id, design.label(r.method_id), r.crop_id or "",
                         crop_names.get(r.crop_id, "") if r.crop_id else "", str(r.n), _num(r.mos), _num(r.std),
                         _num(r.ci_low), _num(r.ci_high)])

    add_mos("mos", analysis.per_method)
    add_mos("mos_by_crop", analysis.per_method_crop)
    add_mos("z_mos", analysis.per_method_z)
    add_mos("dmos", analysis.per_method_dmos)
    for scale, kind in ((analysis.bradley_terry, "bradley_terry"), (analysis.thurstone, "thurstone")):
        if scale is None:
            continue
        n_comp = analysis.matrix.sum(axis=1) + analysis.matrix.sum(axis=0) if analysis.matrix is not None else None
        for i, m in enumerate(scale.method_ids):
            rows.append([kind, m, design.label(m), "", "", str(int(n_comp[i])) if n_comp is not None else "",
                         _num(scale.scores[i]), "", _num(scale.ci_low[i]), _num(scale.ci_high[i])])
    return rows


def write_analysis_csv(path: str | Path, design: StudyDesign, analysis: StudyAnalysis) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(ANALYSIS_COLUMNS)
        w.writerows(analysis_rows(design, analysis))
        # Rejected observers as rows of their own kind, so the file stays one rectangular table.
        for obs in analysis.rejected:
            w.writerow(["rejected_observer", "", obs] + [""] * (len(ANALYSIS_COLUMNS) - 3))
