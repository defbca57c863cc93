"""Statistics against hand-computed values and constructed panels."""

from __future__ import annotations

import math

import numpy as np
import pytest

from isp_viewer.study.analysis import (
    Score,
    bradley_terry,
    comparison_matrix,
    dmos_hidden_reference,
    mean_ci,
    mos_table,
    scale_pairwise,
    screen_bt500,
    thurstone_case_v,
    zscores,
)


def _scores(table: dict[str, dict[str, list[int]]], crop: str = "c") -> list[Score]:
    """{observer: {method: [ratings per repetition]}} -> Scores on one crop."""
    return [Score(o, crop, m, r, float(v)) for o, per in table.items() for m, vals in per.items()
            for r, v in enumerate(vals)]


def test_mos_and_ci_match_a_hand_computed_example() -> None:
    # Method A: 4, 5, 3, 4 -> mean 4, s = sqrt(2/3) = 0.816497, t(0.975, 3) = 3.182446
    #   CI half-width = 3.182446 * 0.816497 / 2 = 1.299228
    # Method B: 2, 3 (one observer, two repetitions) + 1, 2 -> mean 2, s = sqrt(2/3), same width.
    scores = _scores({"o1": {"A": [4], "B": [2, 3]}, "o2": {"A": [5], "B": [1]},
                      "o3": {"A": [3], "B": [2]}, "o4": {"A": [4]}})
    a, b = mos_table(scores, method_order=["A", "B"])
    assert (a.method_id, a.n, b.n) == ("A", 4, 4)
    assert a.mos == pytest.approx(4.0) and b.mos == pytest.approx(2.0)
    assert a.std == pytest.approx(math.sqrt(2 / 3))
    assert a.ci == pytest.approx(3.182446 * math.sqrt(2 / 3) / 2, abs=1e-6)
    assert (a.ci_low, a.ci_high) == pytest.approx((4 - 1.299228, 4 + 1.299228), abs=1e-6)
    # Five ratings 1..5: mean 3, s = sqrt(2.5), t(0.975, 4) = 2.776445
    mu, sd, half = mean_ci([1, 2, 3, 4, 5])
    assert (mu, sd, half) == pytest.approx((3.0, math.sqrt(2.5), 2.776445 * math.sqrt(2.5) / math.sqrt(5)),
                                           abs=1e-6)
    assert math.isnan(mean_ci([4])[2])
    # 99% uses a wider t quantile: t(0.995, 4) = 4.604095
    assert mean_ci([1, 2, 3, 4, 5], 0.99)[2] == pytest.approx(4.604095 * math.sqrt(0.5), abs=1e-6)


def test_mos_by_crop_and_zscores() -> None:
    scores = _scores({"o1": {"A": [5], "B": [3]}}, "c1") + _scores({"o1": {"A": [4], "B": [2]}}, "c2") \
        + _scores({"o2": {"A": [3], "B": [1]}}, "c1")
    rows = mos_table(scores, by_crop=True, method_order=["A", "B"], crop_order=["c1", "c2"])
    assert [(r.method_id, r.crop_id, r.n, r.mos) for r in rows] == [
        ("A", "c1", 2, 4.0), ("A", "c2", 1, 4.0), ("B", "c1", 2, 2.0), ("B", "c2", 1, 2.0)]
    z = zscores(scores)
    # o1 rated 5, 3, 4, 2: mean 3.5, s = sqrt(5/3); o2 rated 3, 1: mean 2, s = sqrt(2).
    s1, s2 = math.sqrt(5 / 3), math.sqrt(2)
    assert [round(x.value, 9) for x in z] == [round(v, 9) for v in
                                              (1.5 / s1, -0.5 / s1, 0.5 / s1, -1.5 / s1, 1 / s2, -1 / s2)]


def test_dmos_with_hidden_reference() -> None:
    # P.910 ACR-HR: DV = V(PVS) - V(REF) + 5 per observer and crop.
    scores = _scores({"o1": {"ref": [4], "A": [3], "B": [4]}, "o2": {"ref": [5], "A": [5], "B": [2]}})
    got = {(s.observer, s.method_id): s.value for s in dmos_hidden_reference(scores, "ref")}
    assert got == {("o1", "A"): 4.0, ("o1", "B"): 5.0, ("o2", "A"): 5.0, ("o2", "B"): 2.0}


def test_bt500_kurtosis_rule_picks_the_band() -> None:
    # Stimulus X: nine 1s, then 3, 4, 5 -> mean 1.75, m2 = 22.25/12, m4 = 142.484375/12,
    # beta2 = 3.454 (in [2, 4]) so the band is mean +- 2 s with s = 1.42223: upper edge 4.594;
    # only observer 'l' (the 5) is outside.
    xs = [1] * 9 + [3, 4, 5]
    # Stimulus Y: eleven 3s and one 5 -> beta2 = 10.1 (outside [2, 4]): band mean +- sqrt(20) s,
    # 3.1667 + 4.472 * 0.57735 = 5.749, so the 5 is NOT counted (it would be with 2 s = 4.32).
    ys = [3] * 11 + [5]
    observers = "abcdefghijkl"
    scores = [Score(o, "c", "X", 0, float(v)) for o, v in zip(observers, xs)] + \
             [Score(o, "c", "Y", 0, float(v)) for o, v in zip(observers, ys)]
    res = screen_bt500(scores)
    assert res.p == {**{o: 0 for o in observers}, "l": 1}
    assert res.q == {o: 0 for o in observers}
    assert res.ratio["l"] == pytest.approx(0.5) and res.asymmetry["l"] == 1.0
    assert res.rejected == ()  # one-sided: |P-Q|/(P+Q) = 1 >= 0.3


def _panel() -> list[Score]:
    """12 stimuli (3 crops x 4 methods) rated by 16 consistent observers whose ratings per stimulus
    are four 2s, eight 3s and four 4s (rotated so nobody is always low), plus:
    - 'zz', a deviant who answers 5 and 1 alternately: with the 17-18 ratings of a stimulus
      beta2 = 2.6 (in [2, 4]) and mean + 2 s = 4.8, so each 5 is a P and each 1 a Q:
      (P+Q)/12 = 1 > 0.05 and |P-Q|/(P+Q) = 0 < 0.3 -> rejected;
    - 'harsh', who answers 1 where zz answers 5 and 2 elsewhere: six Qs and no P, so
      |P-Q|/(P+Q) = 1 -> kept (a consistent bias, not an inconsistent observer)."""
    pattern = [2] * 4 + [3] * 8 + [4] * 4
    scores = []
    for j in range(12):
        crop, method = f"c{j % 3}", f"m{j}"
        scores += [Score(f"o{k:02d}", crop, method, 0, float(pattern[(k + 5 * j) % 16])) for k in range(16)]
        scores.append(Score("zz", crop, method, 0, 5.0 if j % 2 == 0 else 1.0))
        scores.append(Score("harsh", crop, method, 0, 1.0 if j % 2 == 0 else 2.0))
    return scores


def test_bt500_rejects_the_deviant_observer_only() -> None:
    scores = _panel()
    for ddof in (1, 0):  # BT.500's sample std, and sureal's population std
        res = screen_bt500(scores, ddof=ddof)
        assert res.rejected == ("zz",)
        assert (res.p["zz"], res.q["zz"], res.ratio["zz"], res.asymmetry["zz"]) == (6, 6, 1.0, 0.0)
        assert (res.p["harsh"], res.q["harsh"], res.asymmetry["harsh"]) == (0, 6, 1.0)
        assert all(res.p[o] + res.q[o] == 0 for o in res.observers if o.startswith("o"))
    # Without the deviant, nobody is rejected.
    assert screen_bt500([s for s in scores if s.observer != "zz"]).rejected == ()


def _simulate_choices(strengths: np.ndarray, n_per_pair: int, seed: int) -> list[tuple[str, str]]:
    rng = np.random.default_rng(seed)
    out = []
    k = len(strengths)
    for i in range(k):
        for j in range(i + 1, k):
            p_i = 1.0 / (1.0 + np.exp(strengths[j] - strengths[i]))
            for _ in range(n_per_pair):
                out.append((f"m{i}", f"m{j}") if rng.random() < p_i else (f"m{j}", f"m{i}"))
    return out


def test_bradley_terry_recovers_a_known_ordering() -> None:
    true = np.array([1.5, 0.7, 0.0, -0.8, -1.4])
    ids = [f"m{i}" for i in range(5)]
    # Listed in a scrambled order to make sure the fit does not echo the input order.
    order = ["m3", "m0", "m4", "m2", "m1"]
    comps = _simulate_choices(true, 40, seed=2)
    bt = scale_pairwise(comps, order, model="bt", n_boot=60, seed=1)
    th = scale_pairwise(comps, order, model="thurstone", n_boot=60, seed=1)
    for scale in (bt, th):
        ranked = [m for _, m in sorted(zip(-scale.scores, scale.method_ids))]
        assert ranked == ids
        assert np.all(scale.ci_low <= scale.scores) and np.all(scale.scores <= scale.ci_high)
        assert abs(scale.scores.mean()) < 1e-9
    # BT log-strengths estimate the simulated ones (up to sampling noise), inside their CIs.
    est = dict(zip(bt.method_ids, bt.scores))
    np.testing.assert_allclose([est[m] for m in ids], true - true.mean(), atol=0.35)
    lo, hi = dict(zip(bt.method_ids, bt.ci_low)), dict(zip(bt.method_ids, bt.ci_high))
    assert sum(lo[m] <= t <= hi[m] for m, t in zip(ids, true - true.mean())) >= 4
    # Seeded bootstrap: same seed, same intervals.
    again = scale_pairwise(comps, order, model="bt", n_boot=60, seed=1)
    np.testing.assert_array_equal(again.ci_low, bt.ci_low)


def test_thurstone_case_v_matches_mosteller_on_a_complete_design() -> None:
    c = np.array([[0, 15, 18], [5, 0, 12], [2, 8, 0]])
    p = (c + 0.5) / (c + c.T + 1.0)
    from scipy.stats import norm
    z = norm.ppf(p)
    np.fill_diagonal(z, 0.0)
    mosteller = z.mean(axis=1)  # row means of z (diagonal 0, n columns) solve the least squares exactly
    np.testing.assert_allclose(thurstone_case_v(c), mosteller - mosteller.mean(), atol=1e-12)
    assert comparison_matrix([("a", "b"), ("a", "b"), ("b", "a")], ["a", "b"]).tolist() == [[0, 2], [1, 0]]
    assert bradley_terry(np.zeros((3, 3), dtype=int)).tolist() == [0.0, 0.0, 0.0]
