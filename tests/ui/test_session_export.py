"""A real RAW with demosaicnet and two LibRaw baselines, two ROIs: session file and figure,
identical from the GUI's dialog and from `isp-viewer export`."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from isp_viewer.core.region import Region
from isp_viewer.export.session_file import LibRawOptions, NetworkOptions, load
from isp_viewer.io.raw import LibRawOptions as RawOptions
from tests.ui.conftest import wait_idle


@pytest.fixture
def raw_comparison(window, qtbot, data):
    window.open_files([str(data / "raw/RAW_KODAK_DC50_é.KDC")])
    wait_idle(qtbot, window)
    source = window.current_source()
    window.add_libraw(source, RawOptions("VNG", "camera", "srgb", 16))
    window.add_network("demosaicnet_bayer", source)
    wait_idle(qtbot, window, timeout=180000)
    window.set_roi((300, 200, 40, 30))
    window.keep_roi()
    window.set_roi((520, 80, 48, 36))
    window.keep_roi()
    return window


def test_session_file_holds_the_comparison(raw_comparison, tmp_path):
    win = raw_comparison
    path = win.save_session(tmp_path / "cmp.ispv")
    doc = load(path)
    assert doc.inputs[0].kind == "raw" and len(doc.inputs[0].sha256) == 64
    kinds = [m.options for m in doc.methods]
    assert [type(k).__name__ for k in kinds] == ["LibRawOptions", "LibRawOptions", "NetworkMethod"]
    assert kinds[0] == LibRawOptions("AHD", "camera", "sRGB", 16) and kinds[1].demosaic == "VNG"
    assert isinstance(kinds[2], NetworkOptions) and kinds[2].model_id == "demosaicnet_bayer"
    assert [r.region for r in doc.rois] == [Region(300, 200, 40, 30), Region(520, 80, 48, 36)]
    assert load(win.save_session(tmp_path / "again.ispv")) == doc   # round trip is stable


def test_gui_figure_equals_cli_figure(raw_comparison, tmp_path, qtbot):
    win = raw_comparison
    dialog = win.export_dialog_for(tmp_path / "cmp.ispv")
    qtbot.addWidget(dialog)
    gui_png = dialog.save_to(tmp_path / "gui.png")
    cli_png = tmp_path / "cli.png"
    proc = subprocess.run([sys.executable, "-m", "isp_viewer", "export", str(tmp_path / "cmp.ispv"),
                           "--figure", "figure", "--out", str(cli_png)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert gui_png.read_bytes() == cli_png.read_bytes()
    from PIL import Image as PILImage

    pixels = np.asarray(PILImage.open(cli_png))
    assert pixels.shape[0] > 200 and pixels.shape[1] > 600


def test_changed_input_is_reported(raw_comparison, tmp_path, data):
    import shutil

    win = raw_comparison
    local = tmp_path / "copy.KDC"
    shutil.copy(data / "raw/RAW_KODAK_DC50_é.KDC", local)
    path = win.save_session(tmp_path / "cmp.ispv")
    text = path.read_text()
    doc = load(path)
    stored = doc.inputs[0].path
    path.write_text(text.replace(stored.replace("\\", "\\\\"), "copy.KDC"))
    local.write_bytes(local.read_bytes()[:-10] + b"0123456789")
    proc = subprocess.run([sys.executable, "-m", "isp_viewer", "export", str(path), "--figure", "figure",
                           "--out", str(tmp_path / "x.png")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "sha256" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
