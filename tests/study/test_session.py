"""RatingSession: answers committed one by one, pause, resume at the first unrated trial."""

from __future__ import annotations

from pathlib import Path

import pytest

from isp_viewer.core.errors import InputError
from isp_viewer.core.region import Region
from isp_viewer.study.crops import Crop
from isp_viewer.study.design import Method, Protocol, StudyDesign, TrainingItem, presentation_order
from isp_viewer.study.session import RatingSession
from isp_viewer.study.store import StudyStore

CROPS = (Crop("c1", "a", Region(0, 0, 4, 4)), Crop("c2", "b", Region(4, 0, 4, 4)))
METHODS = (Method("m1", "One"), Method("m2", "Two"), Method("m3", "Three"))


@pytest.fixture
def store(tmp_path: Path):
    with StudyStore(tmp_path / "p.db") as s:
        yield s


def test_each_rating_is_committed_and_a_session_resumes_where_it_stopped(store: StudyStore) -> None:
    d = StudyDesign(CROPS, METHODS, training=(TrainingItem("c1", "m1"),), grey_interval_s=0)
    s = RatingSession.start(store, d, "  ann ")
    assert s.observer_id == "ann" and s.position == 0 and s.progress() == (1, 1, True)
    s.record(3, response_time=1.25)
    assert s.progress() == (1, 6, False)
    answered = [s.record(v) for v in (5, 4)]
    # Visible from another connection at once.
    with StudyStore(store.path) as other:
        rows = other.ratings(d.study_id, include_training=True)
    assert [(r.trial, r.rating, r.observer) for r in rows] == [(0, 3, "ann"), (1, 5, "ann"), (2, 4, "ann")]
    assert rows[0].training and not rows[1].training and rows[0].response_time == 1.25
    assert [r.stimulus for r in rows[1:]] == [t.stimulus for t in answered]
    assert len(store.ratings(d.study_id)) == 2  # training answers are not analysed

    again = RatingSession.start_or_resume(store, d, "ann")
    assert again.session_id == s.session_id and again.position == 3 and again.progress() == (3, 6, False)
    assert again.current == presentation_order(d, "ann")[3]
    while not again.finished:
        again.record(2)
    assert store.session_info(s.session_id).finished is not None
    with pytest.raises(InputError, match="already complete"):
        again.record(2)
    # A finished observer who comes back starts a fresh session.
    assert RatingSession.start_or_resume(store, d, "ann").session_id != s.session_id


def test_pause_blocks_rating_and_is_stored(store: StudyStore) -> None:
    d = StudyDesign(CROPS, METHODS)
    s = RatingSession.start(store, d, "bo")
    s.mark_presented()
    s.pause()
    assert store.session_info(s.session_id).paused and RatingSession.resume(store, s.session_id).paused
    with pytest.raises(InputError, match="paused"):
        s.record(3)
    s.unpause()
    s.mark_presented()
    s.record(3)
    (r,) = store.ratings(d.study_id)
    assert r.response_time is not None and 0 <= r.response_time < 5
    assert not store.session_info(s.session_id).paused


@pytest.mark.parametrize("bad", [0, 6, "7", "x", 2.5, True, None])
def test_invalid_ratings_are_refused_and_nothing_is_written(store: StudyStore, bad) -> None:
    s = RatingSession.start(store, StudyDesign(CROPS, METHODS), "c")
    with pytest.raises(InputError, match="1 to 5"):
        s.record(bad)
    assert s.position == 0 and store.ratings() == []


def test_pairwise_answers_accept_sides_or_method_ids(store: StudyStore) -> None:
    d = StudyDesign(CROPS, METHODS, protocol=Protocol.PAIRWISE)
    s = RatingSession.start(store, d, "d")
    t0 = s.record("A")
    t1 = s.record("b")
    t2 = s.current
    s.record(t2.method_b)
    with pytest.raises(InputError, match="Choose A or B"):
        s.record("m9")
    rows = store.ratings(d.study_id)
    assert [r.choice for r in rows] == [t0.method_id, t1.method_b, t2.method_b]
    assert all(r.rating is None and r.protocol is Protocol.PAIRWISE for r in rows)
    with pytest.raises(InputError, match="observer id"):
        RatingSession.start(store, d, "   ")
