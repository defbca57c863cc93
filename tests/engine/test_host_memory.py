"""Host memory policy of CPU inference (engine/host_memory.py): freed large blocks are reused.

Each check runs in a fresh interpreter, because the policy is process-wide and the point is to
compare it with glibc's defaults.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from isp_viewer.engine.host_memory import _glibc

PROBE = r"""
import json, resource, sys, threading
import numpy as np
from isp_viewer.engine.host_memory import give_back_freed_memory, keep_freed_memory
kept = keep_freed_memory() if sys.argv[1] == "keep" else False

def faults_of_reallocation(box):
    # A 256 MB buffer, written, freed, then allocated and written again, in a worker thread (as the
    # engine's): the second allocation's page faults show whether the freed block was reused.
    a = np.ones(64 * 1024 * 1024, np.float32); del a
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    b = np.ones(64 * 1024 * 1024, np.float32)
    box["faults"] = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    box["sum"] = float(b.sum(dtype=np.float64))

box = {}
t = threading.Thread(target=faults_of_reallocation, args=(box,)); t.start(); t.join()
rss = lambda: int([l for l in open("/proc/self/status") if l.startswith("VmRSS")][0].split()[1])
before_trim = rss()
give_back_freed_memory()
print(json.dumps({"kept": kept, **box, "rss_before_trim_kib": before_trim, "rss_after_trim_kib": rss()}))
"""


def _probe(mode: str) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(_glibc() is None, reason="glibc policy (mallopt/malloc_trim); other C libraries keep theirs")
def test_freed_blocks_are_reused_and_given_back_after_the_job():
    default, kept = _probe("default"), _probe("keep")
    assert not default["kept"] and kept["kept"]
    assert default["sum"] == kept["sum"] == 64 * 1024 * 1024
    # glibc's default maps the 256 MB afresh: a fault per page (65536 of 4 KiB, or 128 huge pages of
    # 2 MiB, which numpy asks for where transparent huge pages are on)
    assert default["faults"] >= 100, default
    # kept: the freed block is reused, nearly no faults
    assert kept["faults"] < default["faults"] / 20, (default, kept)
    # the freed 256 MB stays resident until the job ends; then malloc_trim gives it back
    assert kept["rss_before_trim_kib"] - kept["rss_after_trim_kib"] > 200 * 1024, kept
