"""Session file: round trip, validation, migration, input checks, autosave and recovery."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from isp_viewer.core.errors import InputError
from isp_viewer.core.region import Region
from isp_viewer.export import session_file as sf
from isp_viewer.export.figure import FigureLayout
from isp_viewer.export.session_file import (
    Autosaver,
    ClassicalOptions,
    DisplaySettings,
    InputOptions,
    LibRawOptions,
    MethodRef,
    NetworkOptions,
    RoiRef,
    SessionDoc,
    check_inputs,
    load,
    make_input_ref,
    save,
)

KODAK = "paired/kodak24"


def full_session(base: Path, data: Path) -> SessionDoc:
    """Every kind of entry the format knows, with real files copied into `base`."""
    shutil.copy(data / KODAK / "kodim23.png", base / "kodim23.png")
    (base / "weights").mkdir()
    (base / "weights" / "net.safetensors").write_bytes(b"fake weights for hashing")
    return SessionDoc(
        inputs=(make_input_ref("k23", base / "kodim23.png", base, "image", simulate_cfa="RGGB"),),
        reference="k23",
        methods=(
            MethodRef("gt", "Ground truth", InputOptions("k23")),
            MethodRef("libraw", "LibRaw AHD", LibRawOptions("AHD", "camera", "linear", 16)),
            MethodRef("bilinear", "Bilinear", ClassicalOptions("bilinear", "RGGB")),
            MethodRef("net", "DemosaicNet", NetworkOptions(
                "demosaicnet", "weights/net.safetensors", sf.file_sha256(base / "weights" / "net.safetensors"),
                {"device": "cpu", "tile": 256, "fp16": False})),
        ),
        rois=(RoiRef("eye", "Eye", Region(360, 150, 32, 30), "#e41a1c"),
              RoiRef("f", "Feathers", Region(308, 160, 40, 30), "#377eb8")),
        display=DisplaySettings(exposure=0.5, gamma=2.2, colormaps={"error": "magma", "fft": "gray"}),
        metric_convention={"channel": "Y", "crop_border": 4, "data_range": 1.0, "quantize": True},
        figures={"paper": FigureLayout(methods=("gt", "net", "bilinear"), rois=("eye",), inset_position="below",
                                       font_size=8.5, error_map=True),
                 "slides": FigureLayout(rows="rois", dpi=96)},
    )


def test_round_trip_is_equal(tmp_path, data):
    doc = full_session(tmp_path, data)
    path = save(doc, tmp_path / "study.ispv")
    loaded = load(path)
    assert loaded == doc
    assert loaded.figures["paper"].methods == ("gt", "net", "bilinear")
    assert loaded.method("net").options.engine == {"device": "cpu", "tile": 256, "fp16": False}
    raw = json.loads(path.read_text())
    assert raw["format"] == "isp-viewer-session" and raw["version"] == sf.FORMAT_VERSION
    assert raw["inputs"][0]["path"] == "kodim23.png"          # stored relative to the .ispv file
    assert raw["methods"][3]["kind"] == "network"
    # Saved atomically: no temporary file is left beside it.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kodim23.png", "study.ispv", "weights"]


def test_relative_paths_follow_a_moved_project(tmp_path, data):
    project = tmp_path / "project"
    project.mkdir()
    save(full_session(project, data), project / "s.ispv")
    moved = tmp_path / "moved"
    project.rename(moved)
    assert check_inputs(load(moved / "s.ispv"), moved) == []


def test_rebase_for_save_as_elsewhere(tmp_path, data):
    doc = full_session(tmp_path, data)
    (tmp_path / "sub").mkdir()
    rebased = sf.rebase(doc, tmp_path, tmp_path / "sub")
    assert rebased.inputs[0].path == "../kodim23.png"
    assert rebased.method("net").options.weights_path == "../weights/net.safetensors"
    assert check_inputs(rebased, tmp_path / "sub") == []


def test_check_inputs_reports_changed_and_missing_files(tmp_path, data):
    doc = full_session(tmp_path, data)
    assert check_inputs(doc, tmp_path) == []

    shutil.copy(data / KODAK / "kodim01.png", tmp_path / "kodim23.png")      # same name, other image
    (tmp_path / "weights" / "net.safetensors").write_bytes(b"retrained")
    problems = check_inputs(doc, tmp_path)
    assert len(problems) == 2
    assert problems[0].startswith("input 'k23': file changed: sha256 was " + doc.inputs[0].sha256[:12])
    assert sf.file_sha256(tmp_path / "kodim23.png")[:12] in problems[0]
    assert problems[1].startswith("method 'net' weights: file changed")

    (tmp_path / "kodim23.png").unlink()
    problems = check_inputs(doc, tmp_path)
    assert problems[0] == f"input 'k23': file missing: {tmp_path / 'kodim23.png'}"


def write_json(path: Path, obj) -> Path:
    path.write_text(json.dumps(obj))
    return path


def minimal() -> dict:
    return {"format": "isp-viewer-session", "version": 1, "inputs": [{"id": "a", "path": "a.png"}],
            "reference": "a", "methods": [{"id": "a", "kind": "input", "options": {"input_id": "a"}}]}


@pytest.mark.parametrize("change, message", [
    (lambda d: d["methods"][0].update(kind="magic"), "methods[0].kind must be one of"),
    (lambda d: d["inputs"][0].update(shasum="x"), "inputs[0] has unknown keys ['shasum']"),
    (lambda d: d.update(rois=[{"id": "r", "region": [1, 2, -3, 4]}]), "rois[0].region must be [x, y, w, h]"),
    (lambda d: d.update(rois=[{"id": "r", "region": [1, 2, 3, 4], "colour": "red"}]), "rois[0].colour must look like"),
    (lambda d: d.update(reference="b"), "reference 'b' is not one of the inputs"),
    (lambda d: d["methods"].append(dict(d["methods"][0])), "method ids must be unique"),
    (lambda d: d.update(figures={"f": {"rows": "columns"}}), "figures['f']: FigureLayout: rows must be one of"),
    (lambda d: d.update(figures={"f": {"dpi": "300"}}), "dpi must be an integer"),
    (lambda d: d.update(version=7), "written by a newer ISP Viewer (format version 7"),
    (lambda d: d.update(format="something-else"), "not an ISP Viewer session"),
])
def test_load_validates_schema(tmp_path, change, message):
    doc = minimal()
    assert load(write_json(tmp_path / "ok.ispv", doc)).methods[0].label == "a"
    change(doc)
    with pytest.raises(InputError) as err:
        load(write_json(tmp_path / "bad.ispv", doc))
    assert message in str(err.value)
    assert str(err.value).startswith("bad.ispv: ")


def test_load_rejects_non_json_and_missing_files(tmp_path):
    (tmp_path / "x.ispv").write_text("{not json")
    with pytest.raises(InputError, match="not a readable session file"):
        load(tmp_path / "x.ispv")
    with pytest.raises(InputError, match="session file not found"):
        load(tmp_path / "missing.ispv")


def test_save_refuses_an_invalid_document(tmp_path):
    doc = SessionDoc(methods=(MethodRef("a", "A", ClassicalOptions()), MethodRef("a", "B", ClassicalOptions())))
    with pytest.raises(ValueError, match="method ids must be unique"):
        save(doc, tmp_path / "dup.ispv")
    assert not list(tmp_path.iterdir())


def test_migration_hook_upgrades_old_versions(tmp_path, monkeypatch):
    old = minimal()
    old["version"] = 0
    old["rois"] = [{"id": "r", "box": {"x": 1, "y": 2, "w": 3, "h": 4}}]   # a made-up older ROI form

    def v0_to_v1(d: dict) -> dict:
        d["rois"] = [{"id": r["id"], "region": [r["box"][k] for k in "xywh"]} for r in d["rois"]]
        return d

    with pytest.raises(InputError, match="format version 0 is too old"):
        load(write_json(tmp_path / "old.ispv", old))
    monkeypatch.setitem(sf.MIGRATIONS, 0, v0_to_v1)
    doc = load(tmp_path / "old.ispv")
    assert doc.rois[0].region == Region(1, 2, 3, 4)
    assert doc.version == sf.FORMAT_VERSION


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_autosaver_debounces_and_flushes(tmp_path):
    clock = FakeClock()
    saver = Autosaver(tmp_path / "s.ispv", delay_s=2.0, max_wait_s=10.0, clock=clock)
    assert saver.path == tmp_path / "s.ispv.autosave"
    docs = [SessionDoc(metric_convention={"n": i}) for i in range(8)]

    assert saver.touch(docs[0]) is False and not saver.path.exists()
    clock.t += 1.0
    assert saver.touch(docs[1]) is False          # still within the quiet period
    clock.t += 1.5
    assert saver.poll() is False                  # 1.5 s since the last change
    clock.t += 0.5
    assert saver.poll() is True                   # 2 s quiet: the latest doc is written
    assert load(saver.path) == docs[1] and saver.writes == 1
    assert saver.poll() is False and not saver.dirty

    # Continuous editing (a change every second, never 2 s quiet) is still saved after max_wait_s.
    first_change = clock.t + 1.0
    for i in range(11):
        clock.t += 1.0
        assert saver.touch(docs[i % 8]) is (clock.t - first_change >= 10.0)
    assert saver.writes == 2 and load(saver.path) == docs[10 % 8]

    saver.touch(docs[3])
    assert saver.flush() is True                  # at once, whatever the clock says
    assert load(saver.path) == docs[3]
    assert saver.flush() is False
    saver.discard()
    assert not saver.path.exists()


def test_autosaver_schedules_a_trailing_write(tmp_path):
    clock = FakeClock()
    scheduled = []
    saver = Autosaver(tmp_path / "s.ispv", delay_s=2.0, clock=clock, schedule=lambda d, cb: scheduled.append((d, cb)))
    saver.touch(SessionDoc(reference=""))
    assert scheduled and scheduled[-1][0] == 2.0
    clock.t += 2.0
    assert scheduled[-1][1]() is True and saver.path.exists()


def test_recover_prefers_a_newer_autosave(tmp_path):
    path = tmp_path / "s.ispv"
    saved = SessionDoc(metric_convention={"state": "saved"})
    edited = SessionDoc(metric_convention={"state": "edited"})
    save(saved, path)
    assert sf.recover(path) is None                      # no autosave at all

    saver = Autosaver(path, delay_s=2.0)
    saver.touch(edited)
    saver.flush()
    st = path.stat()
    os.utime(saver.path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    assert sf.find_recovery(path) == saver.path
    assert sf.recover(path) == edited

    os.utime(saver.path, ns=(st.st_atime_ns, st.st_mtime_ns - 5_000_000_000))   # file saved after it
    assert sf.recover(path) is None

    path.unlink()                                         # crash before the first real save
    assert sf.recover(path) == edited
