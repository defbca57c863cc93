"""The Run dock's noise level, by clicks and keys: a Bayer RAW -> tick Kokkinos MMNet (noisy) -> the
"Noise σ" field comes alive -> type 5 -> Run -> the pane's label says σ=5/255 and its pixels are
that network run with noise_sigma=5 (not its own estimate)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PySide6", reason="GUI workflow tests need PySide6")

from isp_viewer.io.dng import write_bayer_dng
from isp_viewer.io.raw import open_raw
from tests.workflows.h_driver import check_box, click, drop_files, open_window, ready_items, type_into, wait_idle

NOISY = "kokkinos_bayer_noisy"


@pytest.fixture
def win(qtbot, tmp_path, monkeypatch, shared):
    window = open_window(qtbot, tmp_path, monkeypatch, weights=shared / "weights")
    window.resize(1600, 1000)
    yield window
    window.bridge.shutdown()
    window.close()


def small_bayer_dng(data, tmp_path):
    """A 96x128 crop of a real camera's mosaic (Kodak DC50) as a Bayer DNG: Kokkinos' 20 stages on the
    whole 0.4 MP frame take minutes on a CPU."""
    raw = open_raw(str(data / "raw" / "RAW_KODAK_DC50_é.KDC"))
    crop = raw.mosaic[200:296, 300:428]
    return write_bayer_dng(tmp_path / "dc50_crop.dng", crop, cfa=raw.cfa, black=int(raw.black_levels[0]),
                           white=int(raw.white_level), make="Kodak", model="DC50 crop")


def test_noise_sigma_typed_in_the_run_dock_reaches_the_network_and_its_label(qtbot, win, data, tmp_path, shots):
    from isp_viewer.engine.run import run_through_engine
    from isp_viewer.models.registry import get_spec

    path = small_bayer_dng(data, tmp_path)
    drop_files(win, [path])
    qtbot.waitUntil(lambda: len(ready_items(win)) == 1, timeout=60000)
    panel = win.models
    assert not panel.noise_spin.isEnabled()                  # nothing ticked takes a noise level
    row = panel.rows[NOISY]
    qtbot.waitUntil(lambda: row.checkbox.isEnabled() and row.weights_reason() is None, timeout=60000)
    check_box(row.checkbox)
    qtbot.waitUntil(panel.noise_spin.isEnabled, timeout=3000)
    assert panel.noise_spin.text() == "Auto"
    type_into(panel.noise_spin, "5")
    assert panel.noise_sigma() == 5.0
    shots(win, "noise_sigma_typed")
    click(panel.run_button)
    qtbot.waitUntil(lambda: len(ready_items(win)) == 2, timeout=180000)
    wait_idle(qtbot, win)
    shots(win, "noise_sigma_result")

    item = next(i for i in ready_items(win) if i.method.kind == "network")
    assert "σ=5/255" in item.label and item.method.engine == {"options": {"noise_sigma": 5.0}}
    job = next(r for r in panel.jobs.values() if r.spec.id == NOISY)
    assert "σ=5/255" in job.name_label.text() and job.state == "done"
    source = win.session.sources[item.source_path]
    spec, weights = get_spec(NOISY), row.weights_path()
    given = run_through_engine(spec, weights, source, device="cpu", options={"noise_sigma": 5.0})
    estimated = run_through_engine(spec, weights, source, device="cpu")
    shown = item.image.data
    assert np.max(np.abs(shown - given.data)) < 1e-5
    assert np.max(np.abs(shown - estimated.data)) > 1e-3    # the typed level, not the network's own estimate

    check_box(row.checkbox)                                  # untick: no ticked network takes a noise level
    qtbot.waitUntil(lambda: not panel.noise_spin.isEnabled(), timeout=3000)
