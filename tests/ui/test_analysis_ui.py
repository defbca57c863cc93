"""Analysis in the window: error maps and spectra in linked panes, metrics table, ROI."""

from __future__ import annotations

import numpy as np
import pytest

from isp_viewer.core.image import Image
from isp_viewer.core.region import Region
from isp_viewer.metrics import ISP_PAPER, psnr_ssim
from isp_viewer.ui.analysis_jobs import colorize, lut
from tests.ui.conftest import wait_idle


@pytest.fixture
def compared(window, qtbot):
    rng = np.random.default_rng(3)
    ref = rng.random((120, 160, 3), dtype=np.float32)
    noisy = np.clip(ref + rng.normal(0, 0.05, ref.shape).astype(np.float32), 0, 1)
    blurred = ref.copy()
    blurred[:, 1:] = (ref[:, 1:] + ref[:, :-1]) / 2
    ids = []
    for label, arr in (("reference", ref), ("noisy", noisy), ("blurred", blurred)):
        item = window.session.add_item(label)
        window._set_ready(item.id, Image(arr, label=label), label)
        ids.append(item.id)
    window.session.set_reference(ids[0])
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: len(window.analysis.rows) == 2, timeout=20000)
    return window, ids, ref, noisy, blurred


def test_metrics_table_equals_the_metrics_module(compared):
    win, _ids, ref, noisy, _blurred = compared
    rows = {r.label: r for r in win.analysis.rows}
    want = psnr_ssim(noisy, ref, ISP_PAPER)
    assert rows["noisy"].psnr == pytest.approx(want.psnr, abs=1e-9)
    assert rows["noisy"].ssim == pytest.approx(want.ssim, abs=1e-9)
    assert rows["blurred"].psnr > rows["noisy"].psnr or rows["blurred"].psnr < rows["noisy"].psnr
    assert "PSNR/SSIM on RGB" in win.analysis.convention_label.text()


def test_error_map_pane_shows_colour_of_known_pixel(compared, qtbot):
    win, ids, ref, noisy, _ = compared
    win.analysis.set_mode("error:absolute")
    qtbot.waitUntil(lambda: "absolute error" in win.panes[ids[1]].title.text(), timeout=20000)
    wait_idle(qtbot, win)
    shown = win.panes[ids[1]].display
    err = np.abs(noisy - ref).mean(axis=2)
    title = win.panes[ids[1]].title.text()
    hi = float(title.split("–")[1].split("(")[0])
    expected = colorize(err, 0.0, hi, "inferno")
    assert np.abs(shown[40, 50].astype(int) - expected[40, 50].astype(int)).max() <= 3
    assert "(shared)" in title and "inferno" in title
    win.analysis.set_mode("error:signed")
    qtbot.waitUntil(lambda: "signed error" in win.panes[ids[1]].title.text(), timeout=20000)
    assert "RdBu_r" in win.panes[ids[1]].title.text()
    win.analysis.set_mode("image")
    wait_idle(qtbot, win)
    assert np.array_equal(win.panes[ids[1]].display, Image(noisy).to_display())


def test_fft_mode_and_spectra(compared, qtbot):
    win, ids, *_ = compared
    win.analysis.set_mode("fft:amplitude")
    qtbot.waitUntil(lambda: "log10 amplitude" in win.panes[ids[2]].title.text(), timeout=20000)
    assert win.panes[ids[2]].display.shape == (120, 160, 3)
    curves = win.analysis.plot.getPlotItem().listDataItems()
    assert len(curves) == 3


def test_roi_metrics_equal_metrics_of_the_crop(compared, qtbot):
    win, ids, ref, noisy, _ = compared
    win.set_roi((30, 20, 64, 48))
    qtbot.waitUntil(lambda: "ROI x 30" in win.analysis.convention_label.text(), timeout=20000)
    wait_idle(qtbot, win)
    rows = {r.label: r for r in win.analysis.rows}
    crop = Region(30, 20, 64, 48)
    want = psnr_ssim(crop.crop(noisy), crop.crop(ref), ISP_PAPER)
    assert rows["noisy"].psnr == pytest.approx(want.psnr, abs=1e-6)
    assert rows["noisy"].ssim == pytest.approx(want.ssim, abs=1e-6)
    # the ROI is drawn in every pane, and moving it in one moves it in all
    pane = win.panes[ids[2]]
    pane.roi_item.setPos((40, 30))
    assert all(p.roi_item.pos().x() == pytest.approx(40) for p in win.panes.values())


def test_metrics_csv_export(compared, tmp_path):
    win, *_ = compared
    win.analysis.write_csv(tmp_path / "m.csv")
    text = (tmp_path / "m.csv").read_text()
    assert "noisy" in text and "PSNR/SSIM on RGB" in text


def test_lut_is_diverging_for_signed():
    table = lut("RdBu_r")
    assert table.shape == (256, 3) and table[0, 2] > table[0, 0] and table[-1, 0] > table[-1, 2]


def test_kept_roi_becomes_a_study_crop_with_pane_pixels(compared, qtbot):
    win, ids, _ref, noisy, _ = compared
    win.set_roi((10, 12, 20, 16))
    win.keep_roi()
    crops = win.study_store.crops()
    assert len(crops) == 1 and crops[0].region == Region(10, 12, 20, 16)
    assert [m.id for m in win.study.methods] == [str(i) for i in ids]
    pixels = win.study_stimulus(str(ids[1]), crops[0].region)
    assert pixels.shape == (16, 20, 3)
    assert np.allclose(pixels, np.round(noisy[12:28, 10:30] * 255) / 255, atol=1 / 255 + 1e-6)


def test_legend_names_are_short_and_unique():
    from isp_viewer.ui.analysis_panel import legend_names

    names = legend_names(["a.dng · LibRaw AHD", "b.dng · LibRaw AHD", "a.dng · bilinear", "bilinear"])
    assert names == ["a.dng · LibRaw AHD", "b.dng · LibRaw AHD", "a.dng · bilinear", "bilinear"]
    assert legend_names(["x", "x"]) == ["x", "x (2)"] and legend_names(["a.png · net"]) == ["net"]
