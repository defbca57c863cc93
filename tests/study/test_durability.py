"""A SIGKILL loses at most the rating in flight: every acknowledged rating is in the database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from isp_viewer.study.session import RatingSession
from isp_viewer.study.store import StudyStore

REPO = Path(__file__).resolve().parents[2]
WRITER = Path(__file__).with_name("durability_writer.py")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL is POSIX-only")
def test_sigkill_keeps_every_acknowledged_rating(tmp_path: Path) -> None:
    db = tmp_path / "project.db"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, str(WRITER), str(db)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        first = proc.stdout.readline().split()
        assert first[:1] == ["ready"], proc.stderr.read()
        session_id = first[1]
        seen_before_kill = [int(proc.stdout.readline()) for _ in range(25)]
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    # Lines still in the pipe were printed (hence committed) before the kill too.
    acknowledged = seen_before_kill + [int(line) for line in out.split()]
    assert acknowledged == list(range(len(acknowledged)))

    with StudyStore(db) as store:
        stored = sorted(r.trial for r in store.ratings(session_id=session_id))
        assert set(acknowledged) <= set(stored)
        assert len(stored) - len(acknowledged) in (0, 1)  # at most the one committed but not yet printed
        assert stored == list(range(len(stored)))
        # The killed session resumes at its first unrated trial.
        resumed = RatingSession.resume(store, session_id)
        assert resumed.position == len(stored)
        assert resumed.observer_id == "killed-observer"
        assert [r.rating for r in store.ratings(session_id=session_id)][:5] == [1, 2, 3, 4, 5]
