"""Shared test fixtures.

Tests that need `../shared` (real RAW files, reference manifests, golden fixtures, weights) use
the `shared` fixture. On a user's fresh clone it is absent and those tests skip with that reason;
CI sets ISPV_REQUIRE_SHARED=1, which turns its absence into a failure.
"""

from __future__ import annotations

import gc
import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# The cyclic collector runs on the main (GUI) thread only, as the window arranges with
# isp_viewer.ui.gui_thread_gc: left automatic, a worker thread could free Qt wrappers left over
# from an earlier test and run QObject destructors off the GUI thread (a deadlock in ~QObject hung
# this suite more than once). Each test's teardown collects the generations that are due.
gc.disable()


@pytest.fixture(autouse=True)
def _collect_garbage_on_the_main_thread():
    yield
    counts, thresholds = gc.get_count(), gc.get_threshold()
    due = [g for g in range(3) if counts[g] > thresholds[g]]
    if due:
        gc.collect(max(due))

REPO = Path(__file__).resolve().parents[1]


def shared_root() -> Path:
    return Path(os.environ.get("ISPV_SHARED", REPO.parent / "shared")).resolve()


@pytest.fixture(scope="session")
def shared() -> Path:
    root = shared_root()
    if not (root / "data").is_dir() or not (root / "reference").is_dir():
        if os.environ.get("ISPV_REQUIRE_SHARED") == "1":
            pytest.fail(f"../shared is required in CI but was not found at {root}")
        pytest.skip("needs ../shared (real RAW files and reference fixtures), which a fresh clone does not have")
    return root


@pytest.fixture(scope="session")
def reference(shared: Path) -> Path:
    return shared / "reference"


@pytest.fixture(scope="session")
def data(shared: Path) -> Path:
    return shared / "data"
