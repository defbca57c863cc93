"""fp16/bf16 support in each descriptor is measured here, not guessed.

The definition and the measurement are in tests/models/precision_table.py; its recorded result is
precision_table.json (measuring every network in fp16 on CPU takes minutes). Here:
* the table covers every network and was measured with today's definition (tolerance, input size);
* every descriptor's fp16/bf16 flags equal the table's verdicts;
* the measurement reproduces live for the networks that take about a second each (LIVE, every
  kind of verdict among them), so the table is not a stale set of numbers. ISPV_FULL_PRECISION=1
  re-measures all of them (about 2 minutes on a 2-core CPU, most of it PyNET, PyNET-CA and SRGAN x8).
"""

from __future__ import annotations

import json
import os

import pytest

from isp_viewer.models.registry import get_spec
from tests.models import precision_table as pt

# About a second each on a 2-core CPU (fp16 there is slow: PyNET's pass alone takes ~20 s). Between
# them: supported by a small error, unsupported by a large error (x2 bf16), unsupported by a failure (UHDFour FFT).
LIVE = ("demosaicnet_bayer", "demosaicnet_xtrans", "uhdfour_lol", "srgan_leftthomas_x2")


def _table() -> dict:
    return json.loads(pt.TABLE.read_text())


def _live_ids() -> list[str]:
    if os.environ.get("ISPV_FULL_PRECISION") == "1":
        return sorted(_table()["networks"])
    return list(LIVE)


def test_table_covers_every_network_with_todays_definition():
    table = _table()
    assert table["half_tol"] == pt.HALF_TOL and table["side"] == pt.SIDE
    assert set(table["networks"]) == {s.id for s in pt.measured_specs()}, \
        "networks changed: re-record with python -m tests.models.precision_table"
    for spec in pt.measured_specs():
        row = table["networks"][spec.id]
        shape = list(pt.natural_input(spec)[0].shape)
        assert row["input_shape"] == shape, f"{spec.id}: recorded on {row['input_shape']}, input is now {shape}"
        for name in pt.DTYPES:
            cell = row[name]
            assert (cell["max_error"] is None) != (cell["failure"] is None)
            assert cell["supported"] == (cell["max_error"] is not None and cell["max_error"] <= pt.HALF_TOL)


@pytest.mark.parametrize("spec", pt.measured_specs(), ids=lambda s: s.id)
def test_descriptor_flags_equal_the_measured_verdicts(spec):
    row = _table()["networks"][spec.id]
    assert spec.fp16 == row["fp16"]["supported"], f"{spec.id}: fp16 max error {row['fp16']}"
    assert spec.bf16 == row["bf16"]["supported"], f"{spec.id}: bf16 max error {row['bf16']}"


@pytest.mark.parametrize("spec_id", _live_ids())
def test_measurement_reproduces_live(spec_id, reference, shared):
    recorded = _table()["networks"][spec_id]
    live = pt.measure(get_spec(spec_id), reference, shared)
    for name in pt.DTYPES:
        want, got = recorded[name], live[name]
        assert got["supported"] == want["supported"], f"{spec_id} {name}: live {got}, recorded {want}"
        assert (got["failure"] is None) == (want["failure"] is None)
        if want["max_error"] is not None:   # CPU kernels differ slightly between machines; not the verdict
            assert got["max_error"] == pytest.approx(want["max_error"], rel=0.25, abs=1e-4)


def test_live_check_spans_every_kind_of_verdict():
    # The cheap subset must meet a supported precision, one refused for its error and one that
    # cannot run, or reproducing it proves little about the rest of the table.
    rows = _table()["networks"]
    cells = [rows[i][name] for i in _live_ids() for name in pt.DTYPES]
    kinds = {"supported" if c["supported"] else "error" if c["failure"] is None else "failure" for c in cells}
    assert kinds == {"supported", "error", "failure"}


def test_raw2rgb_is_fp32_only():
    spec = get_spec("cycleisp_raw2rgb")
    assert not spec.fp16 and not spec.bf16   # not measured (needs a reference image): never guessed
