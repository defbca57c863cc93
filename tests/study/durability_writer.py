"""Helper process for test_durability: rates as fast as it can and acknowledges each committed rating.

Usage: python durability_writer.py DB_PATH
Prints "ready <session id>" once, then the trial index of every rating after `record` returned
(i.e. after its transaction committed), flushing each line. It never stops on its own: the test
kills it with SIGKILL.
"""

from __future__ import annotations

import sys

from isp_viewer.core.region import Region
from isp_viewer.study.design import Method, StudyDesign
from isp_viewer.study.session import RatingSession
from isp_viewer.study.store import StudyStore


def main(db_path: str) -> None:
    store = StudyStore(db_path)
    crop = store.add_crop("flat", Region(0, 0, 4, 4))
    design = StudyDesign((crop,), (Method("m", "M"),), repetitions=20_000, grey_interval_s=0.0)
    session = RatingSession.start(store, design, "killed-observer")
    print("ready", session.session_id, flush=True)
    while True:
        trial = session.record(1 + session.n_done % 5, response_time=0.1)
        print(trial.index, flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
