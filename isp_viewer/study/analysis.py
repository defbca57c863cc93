"""Pure statistics on study answers: MOS with t-based confidence intervals, z-scores, ITU-R BT.500
observer screening, and pairwise scaling (Bradley-Terry via choix, Thurstone Case V) with
seeded bootstrap intervals.

Inputs are `RatingRecord`s (from the store or from a reloaded CSV); training answers are ignored.
Everything here is deterministic: the same records (and seed) give the same numbers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from isp_viewer.study.design import Protocol, ReferenceMode, StudyDesign
from isp_viewer.study.store import RatingRecord


# --- rating scores -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Score:
    """One analysable rating: a number given by an observer to (crop, method)."""

    observer: str
    crop_id: str
    method_id: str
    repetition: int
    value: float


def scores_from_records(records: Iterable[RatingRecord], exclude_observers: Iterable[str] = ()) -> list[Score]:
    """ACR/DCR test answers as Scores (training and pairwise answers are left out)."""
    excluded = set(exclude_observers)
    return [Score(r.observer, r.crop_id, r.method_id, r.repetition, float(r.rating)) for r in records
            if not r.training and r.rating is not None and r.protocol is not Protocol.PAIRWISE
            and r.observer not in excluded]


def zscores(scores: Sequence[Score]) -> list[Score]:
    """Each observer's ratings standardised by their own mean and sample std (ddof=1), which removes
    differences in how observers use the scale. An observer with constant ratings gets zeros."""
    by_observer: dict[str, list[float]] = defaultdict(list)
    for s in scores:
        by_observer[s.observer].append(s.value)
    moments = {}
    for obs, vals in by_observer.items():
        v = np.asarray(vals)
        sd = float(v.std(ddof=1)) if v.size > 1 else 0.0
        moments[obs] = (float(v.mean()), sd)
    out = []
    for s in scores:
        mu, sd = moments[s.observer]
        out.append(Score(s.observer, s.crop_id, s.method_id, s.repetition, (s.value - mu) / sd if sd > 0 else 0.0))
    return out


# --- MOS and confidence intervals ---------------------------------------------------------------
@dataclass(frozen=True)
class MosRow:
    """Mean opinion score of one method (crop_id None: pooled over crops) or one method x crop.

    n: number of ratings pooled (observers x repetitions [x crops]); std: sample std (ddof=1);
    ci: half-width of the confidence interval t_{(1+c)/2, n-1} * std / sqrt(n) (nan when n < 2).
    """

    method_id: str
    crop_id: str | None
    n: int
    mos: float
    std: float
    ci: float

    @property
    def ci_low(self) -> float:
        return self.mos - self.ci

    @property
    def ci_high(self) -> float:
        return self.mos + self.ci


def mean_ci(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, sample std, CI half-width from Student's t with n-1 degrees of freedom)."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return float("nan"), float("nan"), float("nan")
    if v.size == 1:
        return float(v[0]), float("nan"), float("nan")
    from scipy import stats  # seconds to import: loaded when a study is analysed, not with the window

    sd = float(v.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2.0, v.size - 1) * sd / np.sqrt(v.size))
    return float(v.mean()), sd, half


def mos_table(scores: Sequence[Score], *, by_crop: bool = False, confidence: float = 0.95,
              method_order: Sequence[str] | None = None, crop_order: Sequence[str] | None = None) -> list[MosRow]:
    """MOS per method (or per method x crop) over all given ratings, in the given orders."""
    groups: dict[tuple[str, str | None], list[float]] = defaultdict(list)
    for s in scores:
        groups[(s.method_id, s.crop_id if by_crop else None)].append(s.value)
    methods = list(method_order) if method_order is not None else sorted({k[0] for k in groups})
    crops: list[str | None] = [None]
    if by_crop:
        crops = list(crop_order) if crop_order is not None else sorted({k[1] for k in groups})  # type: ignore[arg-type]
    rows = []
    for m in methods:
        for c in crops:
            vals = groups.get((m, c))
            if vals:
                mu, sd, half = mean_ci(vals, confidence)
                rows.append(MosRow(m, c, len(vals), mu, sd, half))
    return rows


def dmos_hidden_reference(scores: Sequence[Score], reference_id: str) -> list[Score]:
    """ACR with hidden reference (ITU-T P.910): DV = V(method) - V(reference) + 5 for the same
    observer, crop and repetition. Ratings without a matching reference rating are dropped."""
    ref = {(s.observer, s.crop_id, s.repetition): s.value for s in scores if s.method_id == reference_id}
    return [Score(s.observer, s.crop_id, s.method_id, s.repetition, s.value - ref[k] + 5.0)
            for s in scores if s.method_id != reference_id
            and (k := (s.observer, s.crop_id, s.repetition)) in ref]


# --- ITU-R BT.500 observer screening -------------------------------------------------------------
@dataclass(frozen=True)
class Screening:
    """Result of the BT.500 beta-2 screening.

    p/q: per observer, how many of their ratings lie above/below the stimulus mean by more than
    the threshold; ratio: (P+Q)/(number of the observer's ratings, i.e. J.K.R in a complete design);
    asymmetry: |P-Q|/(P+Q) (nan when P+Q = 0).
    """

    observers: tuple[str, ...]
    p: dict[str, int]
    q: dict[str, int]
    ratio: dict[str, float]
    asymmetry: dict[str, float]
    rejected: tuple[str, ...]


def _kurtosis_beta2(v: np.ndarray) -> float:
    """beta2 = m4 / m2^2 with central moments over N (Pearson's kurtosis; 3 for a normal)."""
    d = v - v.mean()
    m2 = float(np.mean(d ** 2))
    return float(np.mean(d ** 4)) / (m2 * m2)


def screen_bt500(scores: Sequence[Score], *, ddof: int = 1, ratio_limit: float = 0.05,
                 asymmetry_limit: float = 0.3) -> Screening:
    """ITU-R BT.500 Annex 2 screening for single-stimulus (ACR/DCR) ratings.

    For each stimulus (crop x method), over all observers and repetitions: mean u, std s and
    kurtosis beta2. With 2 <= beta2 <= 4 (roughly normal) the band is u +- 2s, otherwise
    u +- sqrt(20) s. A rating at or above the upper edge adds to the observer's P, at or below
    the lower edge to Q. An observer is rejected when (P+Q)/(J.K.R) > 0.05 and |P-Q|/(P+Q) < 0.3.

    ddof: 1 for the sample std that BT.500 defines (N-1); sureal uses 0.
    Stimuli whose ratings are all equal are skipped: the band collapses to a point and would
    count every observer as an outlier.
    """
    by_stimulus: dict[tuple[str, str], list[Score]] = defaultdict(list)
    n_given: dict[str, int] = defaultdict(int)
    for s in scores:
        by_stimulus[(s.crop_id, s.method_id)].append(s)
        n_given[s.observer] += 1
    observers = tuple(sorted(n_given))
    p = dict.fromkeys(observers, 0)
    q = dict.fromkeys(observers, 0)
    for group in by_stimulus.values():
        v = np.array([s.value for s in group])
        if v.size < 2 or np.all(v == v[0]):
            continue
        mu, sd = float(v.mean()), float(v.std(ddof=ddof))
        width = 2.0 * sd if 2.0 <= _kurtosis_beta2(v) <= 4.0 else np.sqrt(20.0) * sd
        for s in group:
            if s.value >= mu + width:
                p[s.observer] += 1
            if s.value <= mu - width:
                q[s.observer] += 1
    ratio = {o: (p[o] + q[o]) / n_given[o] for o in observers}
    asym = {o: abs(p[o] - q[o]) / (p[o] + q[o]) if p[o] + q[o] else float("nan") for o in observers}
    rejected = tuple(o for o in observers if ratio[o] > ratio_limit and asym[o] < asymmetry_limit)
    return Screening(observers, p, q, ratio, asym, rejected)


# --- pairwise comparisons ----------------------------------------------------------------------
def comparisons_from_records(records: Iterable[RatingRecord], exclude_observers: Iterable[str] = ()
                             ) -> list[tuple[str, str]]:
    """(winner, loser) method ids of every pairwise test answer."""
    excluded = set(exclude_observers)
    out = []
    for r in records:
        if r.training or r.choice is None or r.method_b is None or r.observer in excluded:
            continue
        loser = r.method_b if r.choice == r.method_id else r.method_id
        out.append((r.choice, loser))
    return out


def comparison_matrix(comparisons: Sequence[tuple[str, str]], method_ids: Sequence[str]) -> np.ndarray:
    """Counts C[i, j] = number of times method i was preferred over method j (pwcmp's layout)."""
    index = {m: i for i, m in enumerate(method_ids)}
    c = np.zeros((len(method_ids), len(method_ids)), dtype=np.int64)
    for winner, loser in comparisons:
        c[index[winner], index[loser]] += 1
    return c


def bradley_terry(matrix: np.ndarray, alpha: float = 0.01) -> np.ndarray:
    """Bradley-Terry log-strengths (mean 0; P(i beats j) = 1 / (1 + exp(s_j - s_i))) by choix's
    iterative Luce spectral ranking on the dense count matrix. alpha: choix's regularisation (added
    to the Markov chain's transition rates), which keeps a never-beaten method finite."""
    import choix  # pulls in scipy.stats: loaded on first use

    n = matrix.shape[0]
    if not np.any(matrix):
        return np.zeros(n)
    params = np.asarray(choix.ilsr_pairwise_dense(np.asarray(matrix, dtype=np.float64), alpha=alpha),
                        dtype=np.float64)
    return params - params.mean()


def thurstone_case_v(matrix: np.ndarray) -> np.ndarray:
    """Thurstone Case V scale values (mean 0) in units of the std of a difference of two percepts.

    Each observed pair gives z_ij = Phi^-1(p_ij) with p_ij = (C_ij + 0.5) / (n_ij + 1) (the +0.5
    keeps unanimous pairs finite); the scale is the least-squares fit of s_i - s_j = z_ij, which for
    a complete balanced design is Mosteller's row mean of z. Pairs never compared are left out.
    """
    from scipy import stats

    n = matrix.shape[0]
    rows, target = [], []
    for i in range(n):
        for j in range(i + 1, n):
            n_ij = matrix[i, j] + matrix[j, i]
            if n_ij == 0:
                continue
            row = np.zeros(n)
            row[i], row[j] = 1.0, -1.0
            rows.append(row)
            target.append(stats.norm.ppf((matrix[i, j] + 0.5) / (n_ij + 1.0)))
    if not rows:
        return np.zeros(n)
    # The constraint sum(s) = 0 as one more equation fixes the free offset.
    a = np.vstack(rows + [np.ones(n)])
    b = np.array(target + [0.0])
    s = np.linalg.lstsq(a, b, rcond=None)[0]
    return s - s.mean()


@dataclass(frozen=True)
class PairwiseScale:
    """Scale values per method with percentile-bootstrap confidence limits."""

    model: str
    method_ids: tuple[str, ...]
    scores: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray


def scale_pairwise(comparisons: Sequence[tuple[str, str]], method_ids: Sequence[str], *, model: str = "bt",
                   n_boot: int = 200, seed: int = 0, confidence: float = 0.95) -> PairwiseScale:
    """Bradley-Terry ('bt') or Thurstone Case V ('thurstone') scale with bootstrap CIs.

    The bootstrap resamples individual comparisons with replacement (numpy Generator seeded by
    `seed`), refits, and takes the (1-c)/2 and (1+c)/2 percentiles of each method's value.
    """
    fit = {"bt": bradley_terry, "thurstone": thurstone_case_v}[model]
    ids = tuple(method_ids)
    scores = fit(comparison_matrix(comparisons, ids))
    if n_boot <= 0 or not comparisons:
        nan = np.full(len(ids), np.nan)
        return PairwiseScale(model, ids, scores, nan, nan.copy())
    rng = np.random.default_rng(seed)
    index = {m: i for i, m in enumerate(ids)}
    pairs = np.array([(index[winner], index[loser]) for winner, loser in comparisons], dtype=np.int64)
    boots = np.empty((n_boot, len(ids)))
    for b in range(n_boot):
        sample = pairs[rng.integers(0, len(pairs), len(pairs))]
        m = np.zeros((len(ids), len(ids)), dtype=np.int64)
        np.add.at(m, (sample[:, 0], sample[:, 1]), 1)
        boots[b] = fit(m)
    lo, hi = np.percentile(boots, [50 * (1 - confidence), 50 * (1 + confidence)], axis=0)
    return PairwiseScale(model, ids, scores, lo, hi)


# --- whole-study analysis ------------------------------------------------------------------------
@dataclass(frozen=True)
class StudyAnalysis:
    """Everything the Analyse screen and the analysis CSV show for one study.

    For ACR/DCR: per_method / per_method_crop MOS (rejected observers excluded when
    `exclude_rejected`), per_method_z (MOS of per-observer z-scores) and, for ACR with a hidden
    reference, per_method_dmos. For pairwise: Bradley-Terry and Thurstone scales and the counts.
    """

    protocol: Protocol
    method_ids: tuple[str, ...]
    observers: tuple[str, ...]
    rejected: tuple[str, ...] = ()
    screening: Screening | None = None
    per_method: tuple[MosRow, ...] = ()
    per_method_crop: tuple[MosRow, ...] = ()
    per_method_z: tuple[MosRow, ...] = ()
    per_method_dmos: tuple[MosRow, ...] = ()
    bradley_terry: PairwiseScale | None = None
    thurstone: PairwiseScale | None = None
    matrix: np.ndarray | None = None


def analyse(design: StudyDesign, records: Sequence[RatingRecord], *, exclude_rejected: bool = True,
            confidence: float = 0.95, n_boot: int = 200, seed: int | None = None) -> StudyAnalysis:
    """Analyse a study's answers. Bootstrap seed defaults to the design's seed (reproducible)."""
    records = [r for r in records if not r.training]
    observers = tuple(sorted({r.observer for r in records}))
    methods = design.conditions
    crops = [c.id for c in design.crops]
    if design.protocol is Protocol.PAIRWISE:
        comps = comparisons_from_records(records)
        boot_seed = design.seed if seed is None else seed
        return StudyAnalysis(
            design.protocol, methods, observers,
            bradley_terry=scale_pairwise(comps, methods, model="bt", n_boot=n_boot, seed=boot_seed,
                                         confidence=confidence),
            thurstone=scale_pairwise(comps, methods, model="thurstone", n_boot=n_boot, seed=boot_seed,
                                     confidence=confidence),
            matrix=comparison_matrix(comps, methods))
    all_scores = scores_from_records(records)
    screening = screen_bt500(all_scores) if all_scores else None
    rejected = screening.rejected if screening else ()
    kept = [s for s in all_scores if not (exclude_rejected and s.observer in rejected)]
    dmos: list[MosRow] = []
    if design.protocol is Protocol.ACR and design.reference_mode is ReferenceMode.HIDDEN and design.reference:
        dmos = mos_table(dmos_hidden_reference(kept, design.reference.id), confidence=confidence,
                         method_order=[m for m in methods if m != design.reference.id])
    return StudyAnalysis(
        design.protocol, methods, observers, rejected, screening,
        per_method=tuple(mos_table(kept, confidence=confidence, method_order=methods)),
        per_method_crop=tuple(mos_table(kept, by_crop=True, confidence=confidence, method_order=methods,
                                        crop_order=crops)),
        per_method_z=tuple(mos_table(zscores(kept), confidence=confidence, method_order=methods)),
        per_method_dmos=tuple(dmos))
