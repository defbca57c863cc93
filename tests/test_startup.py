"""Starting like a viewer: nothing heavy is imported before the window is up or by light CLI
commands, and a machine without a display gets one line and exit code 2 instead of Qt's abort.

Each check runs in a fresh interpreter, because this test session has long imported everything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# Libraries that take seconds to import (torch alone 2-5 s here): none may delay the first paint.
HEAVY = ("torch", "scipy", "choix", "matplotlib", "pptx", "flip_evaluator", "colour_demosaicing", "colour")

LOADED = f"import json, sys; print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"


def run_python(code: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=timeout,
                          cwd=str(REPO), env=env if env is not None else {**os.environ})


def loaded_modules(proc: subprocess.CompletedProcess) -> list[str]:
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_window_shown_without_heavy_modules(tmp_path):
    pytest.importorskip("PySide6", reason="the window needs PySide6")
    code = (
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from isp_viewer.app import start\n"
        "app, window = start([])\n"           # the real start-up: window shown, demo requested
        "app.processEvents()\n"
        "assert window.isVisible()\n"
        + LOADED
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path),
           "ISPV_STUDY_DB": str(tmp_path / "study.sqlite")}
    assert loaded_modules(run_python(code, env)) == []


def test_info_render_metrics_import_no_heavy_module(tmp_path):
    import numpy as np

    from isp_viewer.core.image import Image
    from isp_viewer.io.dng import write_bayer_dng
    from isp_viewer.io.images import write_image

    png = tmp_path / "grey.png"
    write_image(png, Image(np.random.default_rng(1).random((32, 32, 3)).astype(np.float32)), bits=8)
    mosaic = np.random.default_rng(0).integers(600, 4000, (64, 96), dtype=np.uint16)
    dng = write_bayer_dng(tmp_path / "tiny.dng", mosaic, "RGGB", black=512, white=4095)
    commands = [["info", str(png)], ["info", str(dng)], ["metrics", "--ref", str(png), str(png), "--json"],
                ["render", str(dng), "--out", str(tmp_path / "out.png")]]
    code = (
        "import contextlib, io, json, sys\n"
        "from isp_viewer.cli import main\n"
        f"for args in {commands!r}:\n"
        "    out = io.StringIO()\n"
        "    with contextlib.redirect_stdout(out):\n"
        "        rc = main(args)\n"
        "    assert rc == 0, (args, out.getvalue())\n"
        + LOADED
    )
    assert loaded_modules(run_python(code)) == []
    assert (tmp_path / "out.png").stat().st_size > 0


def test_engine_and_study_packages_import_light():
    code = "import isp_viewer.engine, isp_viewer.engine.devices, isp_viewer.study.analysis, isp_viewer.metrics, " \
           "isp_viewer.analysis, isp_viewer.export, isp_viewer.models.loading\n" + LOADED
    assert loaded_modules(run_python(code)) == []


def test_engine_names_still_resolve_on_use():
    from isp_viewer import engine

    assert engine.Engine.__name__ == "Engine"
    assert engine.choose_placement is engine.devices.choose_placement
    with pytest.raises(AttributeError):
        engine.NoSuchThing  # noqa: B018


def test_no_display_prints_one_line_and_exits_2(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(QT_QPA_PLATFORM="xcb", HOME=str(tmp_path))
    proc = subprocess.run([sys.executable, "-m", "isp_viewer"], check=False, capture_output=True, text=True, timeout=60,
                          cwd=str(REPO), env=env)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "DISPLAY" in lines[0] and "offscreen" in lines[0]
    assert proc.stdout == ""


def test_display_problem_cases():
    from isp_viewer.app import display_problem

    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert display_problem({}, "darwin") is None
    assert "WAYLAND_DISPLAY" in display_problem({"QT_QPA_PLATFORM": "wayland", "DISPLAY": ":0"}, "linux")
    assert "neither DISPLAY nor WAYLAND_DISPLAY" in display_problem({}, "linux")
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux") is None


def test_demo_ground_truth_first_then_methods_then_network_panel(qtbot, tmp_path, monkeypatch):
    pytest.importorskip("PySide6", reason="the window needs PySide6")
    from isp_viewer.ui import main_window
    from isp_viewer.ui.pane import ImagePane

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("ISPV_STUDY_DB", str(tmp_path / "study.sqlite"))
    events = []
    show, add_classical = ImagePane.set_display, main_window.MainWindow.add_classical
    monkeypatch.setattr(ImagePane, "set_display", lambda self, *a: (events.append(("pixels", self.item_id)),
                                                                    show(self, *a))[1])
    monkeypatch.setattr(main_window.MainWindow, "add_classical",
                        lambda self, algo, *a: (events.append(("method", algo)), add_classical(self, algo, *a))[1])
    from isp_viewer.app import start

    _app, win = start([])
    qtbot.addWidget(win)
    try:
        ref_id = next(iter(win.panes))
        qtbot.waitUntil(lambda: len(win.panes) >= 5 and win._models is not None, timeout=120000)
        assert events[0] == ("pixels", ref_id)           # the ground truth before any other work
        assert [e for e in events if e[0] == "method"] == [("method", a) for a in ("bilinear", "malvar", "menon")]
        assert win.models.source is win.session.sources[next(iter(win.session.sources))]   # the demo mosaic
    finally:
        win.close()
