"""The metrics table's chosen columns in the session file: saved, read back, and the default
(PSNR, SSIM) for a file written before the field existed."""

from __future__ import annotations

import json

import pytest

from isp_viewer.core.errors import InputError
from isp_viewer.core.session import DEFAULT_METRICS, Session
from isp_viewer.export.session_doc import build_doc
from isp_viewer.export.session_file import SessionDoc, load, save

CHOSEN = ("PSNR", "SSIM", "dE2000", "NIQE")


def test_the_choice_round_trips_through_the_file(tmp_path):
    path = save(SessionDoc(metrics=CHOSEN), tmp_path / "s.ispv")
    assert json.loads(path.read_text())["metrics"] == list(CHOSEN)
    assert load(path).metrics == CHOSEN


def test_a_file_without_the_field_opens_with_the_default(tmp_path):
    path = save(SessionDoc(metrics=CHOSEN), tmp_path / "old.ispv")
    raw = json.loads(path.read_text())
    del raw["metrics"]                                  # as a file saved before the field existed
    path.write_text(json.dumps(raw))
    assert load(path).metrics == DEFAULT_METRICS == ("PSNR", "SSIM")


def test_the_default_is_not_written(tmp_path):
    """Files with the default choice stay exactly what earlier versions wrote (and can read)."""
    path = save(SessionDoc(), tmp_path / "d.ispv")
    assert "metrics" not in json.loads(path.read_text())
    assert load(path).metrics == DEFAULT_METRICS


def test_a_malformed_choice_is_refused_in_one_line(tmp_path):
    path = save(SessionDoc(metrics=CHOSEN), tmp_path / "bad.ispv")
    raw = json.loads(path.read_text())
    raw["metrics"] = ["PSNR", 3]
    path.write_text(json.dumps(raw))
    with pytest.raises(InputError, match=r"session\.metrics must be a list of metric names"):
        load(path)


def test_the_session_holds_the_choice_and_build_doc_saves_it(tmp_path):
    session = Session()
    seen = []
    session.metrics_changed.connect(seen.append)
    assert session.metrics == DEFAULT_METRICS
    session.set_metrics(CHOSEN)
    session.set_metrics(list(CHOSEN))                   # the same choice again: no second event
    assert seen == [CHOSEN]
    doc = build_doc(session, tmp_path, {})
    assert doc.metrics == CHOSEN
    assert load(save(doc, tmp_path / "b.ispv")).metrics == CHOSEN
