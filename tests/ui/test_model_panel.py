"""The model panel driven like a user would: availability per input, weights, settings, run, cancel, errors.

Real networks: demosaicnet (Bayer, weights packaged in its wheel) on a 256x256 Kodak crop sampled
through a GRBG mosaic. Synthetic networks (a slow identity, a failing one) exercise cancel and
errors without depending on timing of real compute.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PySide6", reason="GUI tests need PySide6")

import torch
from PySide6.QtCore import Qt, QThread, QTimer
from PySide6.QtWidgets import QApplication, QFileDialog
from torch import nn

from isp_viewer.core.errors import ModelError
from isp_viewer.core.image import Image
from isp_viewer.engine import CPU_ONLY, DeviceInfo, Engine
from isp_viewer.engine.run_requests import ModelResult
from isp_viewer.io.images import read_image, simulate_mosaic
from isp_viewer.models import registry
from isp_viewer.models.spec import InputKind, ModelSpec, Task
from isp_viewer.ui.model_panel import ModelPanel

SRGAN_IDS = ("srgan_lornatang_x4", "srgan_leftthomas_x2", "srgan_leftthomas_x4", "srgan_leftthomas_x8")


# --- fixtures -----------------------------------------------------------------------------------------


@pytest.fixture
def no_user_weights(monkeypatch):
    """Only weights packaged in wheels are found (a developer's weights/ folder must not change results)."""
    monkeypatch.setattr(registry, "weights_dirs", lambda: [])


@pytest.fixture
def make_panel(qtbot):
    made: list[tuple[ModelPanel, Engine]] = []

    def make(engine: Engine | None = None, **kw) -> ModelPanel:
        engine = engine or Engine(device_probe=lambda: CPU_ONLY)
        panel = ModelPanel(engine, **kw)
        qtbot.addWidget(panel)
        panel.resize(420, 900)
        panel.show()
        made.append((panel, engine))
        return panel

    yield make
    for panel, engine in made:
        panel.shutdown()
        engine.shutdown(timeout=10)


@pytest.fixture(scope="module")
def kodak(shared) -> tuple[Image, object]:
    """(reference 256x256 sRGB crop of kodim19, its GRBG mosaic)."""
    image = read_image(shared / "data" / "paired" / "kodak24" / "kodim19.png")
    reference = image.with_data(image.data[200:456, 200:456])
    return reference, simulate_mosaic(reference, "GRBG")


def set_source(qtbot, panel: ModelPanel, source) -> None:
    with qtbot.waitSignal(panel.availability_changed, timeout=30000):
        panel.set_source(source)


# --- synthetic networks -----------------------------------------------------------------------------


def _synthetic_spec(id: str, infer) -> ModelSpec:
    return ModelSpec(id=id, name=f"Synthetic {id}", task=Task.DENOISE, input_kind=InputKind.SRGB,
                     build=lambda: nn.Identity(), infer=infer, manifest="", tile_overlap=0, tile_align=1)


def synthetic_specs(calls: list[float], seconds: float = 0.1) -> list[ModelSpec]:
    def slow(net, x, *, cfa=None, device="cpu", dtype=torch.float32, **options):
        calls.append(time.perf_counter())
        time.sleep(seconds)
        return np.array(x, np.float32)

    def quick(net, x, *, cfa=None, device="cpu", dtype=torch.float32, **options):
        return np.array(x, np.float32) * np.float32(0.5)

    def failing(net, x, *, cfa=None, device="cpu", dtype=torch.float32, **options):
        raise ModelError("synthetic failure: this tile is on fire")

    return [_synthetic_spec("slow", slow), _synthetic_spec("quick", quick), _synthetic_spec("failing", failing)]


def synthetic_panel(make_panel, specs: list[ModelSpec]) -> ModelPanel:
    table = {s.id: s for s in specs}
    engine = Engine(lambda spec, weights: spec.build(), table.__getitem__, device_probe=lambda: CPU_ONLY,
                    min_tile=16)
    return make_panel(engine, specs=specs, weights_finder=lambda spec: Path("synthetic.pth"))


def smooth_image(h: int, w: int) -> Image:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    rgb = np.stack([0.5 + 0.4 * np.sin(xx / 5), 0.5 + 0.4 * np.cos(yy / 7), (xx + yy) / (h + w)], axis=2)
    return Image(rgb.astype(np.float32), label="synthetic")


# --- availability and weights -----------------------------------------------------------------------


def test_rows_show_availability_for_a_simulated_mosaic_and_follow_the_input(qtbot, make_panel, kodak, shared,
                                                                           no_user_weights):
    reference, mosaic = kodak
    panel = make_panel()
    assert set(panel.rows) == {s.id for s in registry.all_specs()}
    assert panel.groups[Task.DEMOSAICK].title() == "demosaick"
    assert panel.rows["demosaicnet_bayer"].parent() is panel.groups[Task.DEMOSAICK]
    set_source(qtbot, panel, mosaic)
    assert "Bayer GRBG mosaic · 256×256" in panel.input_label.text()

    demosaicnet = panel.rows["demosaicnet_bayer"]
    assert demosaicnet.available() and demosaicnet.checkbox.isEnabled()
    assert demosaicnet.weights_label.text().startswith("weights: bayer.pth")
    assert not demosaicnet.badge.isVisibleTo(panel)            # MIT: no non-commercial badge
    assert "works on X-Trans" in panel.rows["demosaicnet_xtrans"].reason_label.text()

    for model_id in SRGAN_IDS:
        row = panel.rows[model_id]
        assert not row.checkbox.isEnabled()
        assert "needs an RGB image" in row.checkbox.toolTip()
        assert "needs an RGB image" in row.reason_label.text()
        assert row.reason_label.isVisibleTo(panel)

    pynet = panel.rows["pynet"]
    assert not pynet.checkbox.isEnabled()
    assert pynet.weights_label.text() == "no weights: put pynet_level_0.pth in weights/"
    assert not pynet.reason_label.isVisibleTo(panel)          # a Bayer network: the input fits
    assert "no weights: put pynet_level_0.pth in weights/" in pynet.checkbox.toolTip()
    assert pynet.badge.isVisibleTo(panel) and "CC BY-NC-SA" in pynet.badge.toolTip()
    assert pynet.load_button.isEnabled()                      # the way out stays open
    assert panel.rows["sgnet"].weights_label.text() == "no public weights — load your own"

    # An RGB input: the mosaic networks step back, SRGAN x4 runs once it is given its weights.
    set_source(qtbot, panel, reference)
    assert "needs a RAW mosaic" in demosaicnet.reason_label.text() and not demosaicnet.checkbox.isEnabled()
    srgan = panel.rows["srgan_leftthomas_x4"]
    assert srgan.reasons() == ["no weights: put netG_epoch_4_100.pth in weights/"]
    with qtbot.waitSignal(panel.weights_checked, timeout=30000) as checked:
        panel.set_weights("srgan_leftthomas_x4", shared / "weights" / "srgan_leftthomas" / "netG_epoch_4_100.pth")
    assert checked.args == ["srgan_leftthomas_x4", ""]
    assert srgan.available() and srgan.checkbox.isEnabled()
    assert "netG_epoch_4_100.pth" in srgan.weights_label.text()
    assert panel.weights_choices() == {
        "srgan_leftthomas_x4": str(shared / "weights" / "srgan_leftthomas" / "netG_epoch_4_100.pth")}
    srgan.checkbox.setChecked(True)
    assert panel.run_button.isEnabled() and panel.run_button.text() == "Run 1 network"


def test_weights_that_do_not_fit_show_the_one_line_error_in_the_row(qtbot, make_panel, kodak, shared,
                                                                    monkeypatch, no_user_weights):
    _, mosaic = kodak
    panel = make_panel()
    set_source(qtbot, panel, mosaic)
    row = panel.rows["demosaicnet_bayer"]
    wrong = shared / "weights" / "srgan_leftthomas" / "netG_epoch_4_100.pth"
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(wrong), "")))
    with qtbot.waitSignal(panel.weights_checked, timeout=30000) as checked:
        qtbot.mouseClick(row.load_button, Qt.MouseButton.LeftButton)
        assert row.reasons() == ["checking weights…"]           # while the worker loads it
    model_id, error = checked.args
    assert model_id == "demosaicnet_bayer" and error and "\n" not in error
    assert error.startswith("netG_epoch_4_100.pth fits SRGAN x4 (leftthomas, 2018), not demosaicnet (Bayer): ")
    assert not row.available() and not row.checkbox.isEnabled()
    shown = row.weights_label.text()
    assert shown.startswith("weights do not fit: ") and len(shown) <= 160
    assert f"weights do not fit: {error}" in row.checkbox.toolTip()      # the whole line, on hover
    assert QApplication.activeModalWidget() is None

    panel.set_weights("demosaicnet_bayer", None)                # back to the packaged file
    assert row.available() and panel.weights_choices() == {}


def test_device_and_precision_choices_say_why_they_are_disabled(make_panel):
    panel = make_panel(Engine(device_probe=lambda: CPU_ONLY), specs=[])

    def state(combo, text):
        i = combo.findText(text)
        return combo.model().item(i).isEnabled(), combo.itemData(i, Qt.ItemDataRole.ToolTipRole) or ""

    assert [panel.device_combo.itemText(i) for i in range(4)] == ["Auto", "CPU", "CUDA", "MPS"]
    assert state(panel.device_combo, "CPU") == (True, "")
    enabled, why = state(panel.device_combo, "CUDA")
    assert not enabled and "No CUDA GPU" in why
    enabled, why = state(panel.device_combo, "MPS")
    assert not enabled and "MPS" in why
    assert state(panel.precision_combo, "fp16") == (False, "The CPU runs fp32")
    assert "Runs on CPU (no GPU found; CPU)" in panel.placement_label.text()

    gpu = make_panel(Engine(device_probe=lambda: DeviceInfo(cuda=True, cuda_name="Simulated GPU")), specs=[])
    assert state(gpu.device_combo, "CUDA")[0] and not state(gpu.device_combo, "MPS")[0]
    assert state(gpu.precision_combo, "fp16")[0]
    enabled, why = state(gpu.precision_combo, "bf16")
    assert not enabled and "lacks bf16" in why
    gpu.precision_combo.setCurrentIndex(gpu.precision_combo.findText("fp16"))
    gpu.device_combo.setCurrentIndex(gpu.device_combo.findText("CPU"))   # fp16 is no longer possible
    assert gpu.precision_request() == "auto" and gpu.device_request() == "cpu"
    gpu.tile_spin.setValue(0)
    assert gpu.tile_spin.text() == "Auto" and gpu.tile_size() is None


# --- running ----------------------------------------------------------------------------------------


def test_demosaicnet_run_reports_progress_and_delivers_a_labelled_image(qtbot, make_panel, kodak, no_user_weights):
    reference, mosaic = kodak
    panel = make_panel(source_provider=lambda: mosaic)
    set_source(qtbot, panel, mosaic)
    panel.set_checked("demosaicnet_bayer")
    panel.tile_spin.setValue(128)                              # 4 tiles of 128 px
    progress, threads = [], []
    gui_thread = QApplication.instance().thread()
    panel.job_progress.connect(lambda model_id, p: (progress.append((model_id, p.done, p.total)),
                                                    threads.append(QThread.currentThread() is gui_thread)))
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    with qtbot.waitSignal(panel.result_ready, timeout=120000) as delivered:
        t_start = time.perf_counter()
        keys = panel.run()
        # run() hands the job to the engine's worker and returns: nothing is delivered synchronously.
        assert not delivered.signal_triggered
    t_end = time.perf_counter()
    timer.stop()

    # The event loop kept turning while the network ran on the engine's worker. How many ticks fit depends on how
    # fast this machine runs the network, so only "some" is asserted; a pause of a whole second would mean the GUI
    # thread did the work (generous, because these machines are shared and noisy).
    during = [t for t in ticks if t_start <= t <= t_end]
    gaps = np.diff([t_start, *during, t_end])
    assert len(during) >= 2 and gaps.max() < 1.0, f"{len(during)} ticks, longest pause {gaps.max():.3f} s"

    assert progress[-1] == ("demosaicnet_bayer", 4, 4) and all(threads)
    assert [d for _, d, _ in progress] == sorted(d for _, d, _ in progress)
    row = panel.jobs[keys[0]]
    assert row.state == "done" and row.bar.value() == row.bar.maximum() and row.bar.text() == "4/4 tiles · 100%"
    assert row.status_label.text().startswith("done · ") and "cpu fp32 · 4 tiles of 128 px" in row.message

    value = delivered.args[0]
    assert isinstance(value, ModelResult) and value.model_id == "demosaicnet_bayer"
    assert value.result.tiles == 4 and value.result.device == "cpu" and value.result.dtype == "float32"
    assert value.image.shape == (256, 256, 3) and not value.image.linear
    assert value.label == value.image.label
    assert value.label.startswith("demosaicnet (Bayer) · bayer.pth · cpu · fp32 · ") and value.label.endswith(" s")
    inner = (slice(4, -4), slice(4, -4))
    mse = float(np.mean((value.image.data[inner] - reference.data[inner]) ** 2))
    assert 10 * np.log10(1 / mse) > 35
    assert not panel.cancel_button.isEnabled()


def test_cancel_stops_a_running_job_and_its_row_says_so(qtbot, make_panel):
    calls: list[float] = []
    panel = synthetic_panel(make_panel, synthetic_specs(calls, seconds=0.1))
    set_source(qtbot, panel, smooth_image(128, 128))
    panel.set_checked("slow")
    panel.tile_spin.setValue(16)                               # 64 tiles x 0.1 s
    finished = []
    panel.result_ready.connect(finished.append)
    key = panel.run()[0]
    row = panel.jobs[key]
    qtbot.waitUntil(lambda: row.state == "running" and row.progress.done >= 2, timeout=20000)
    assert "tiles of 16 px" in row.status_label.text()
    # the bar shows the fraction of the image done: at least the tiles finished when it was drawn
    assert row.bar.text().startswith(f"{row.progress.done}/64 tiles · ")
    assert row.bar.value() == round(row.bar.maximum() * row.progress.fraction) >= round(row.bar.maximum() * 2 / 64)
    assert panel.cancel_button.isEnabled()
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: row.state == "cancelled", timeout=5000)
    assert row.status_label.text() == "cancelled" and not row.cancel_button.isEnabled()
    at_cancel = len(calls)
    assert row.future.cancelled()
    # The engine's worker runs one job at a time: once a job queued behind the cancelled one has
    # finished, the cancelled one has certainly stopped (no clock involved).
    panel.set_checked("slow", False)
    panel.set_checked("quick")
    after = panel.jobs[panel.run()[0]]
    qtbot.waitUntil(lambda: after.state == "done", timeout=20000)
    assert len(calls) <= at_cancel + 1 < 64                    # the worker stopped at the next tile
    assert [r.model_id for r in finished] == ["quick"] and not panel.cancel_button.isEnabled()


def test_a_new_run_supersedes_the_running_job_of_the_same_network(qtbot, make_panel):
    calls: list[float] = []
    panel = synthetic_panel(make_panel, synthetic_specs(calls, seconds=0.05))
    set_source(qtbot, panel, smooth_image(128, 128))
    panel.set_checked("slow")
    panel.tile_spin.setValue(16)
    first = panel.jobs[panel.run()[0]]
    qtbot.waitUntil(lambda: first.state == "running", timeout=20000)
    second = panel.jobs[panel.run()[0]]
    qtbot.waitUntil(lambda: first.state == "cancelled", timeout=5000)
    assert first.status_label.text() == "cancelled (superseded by a newer run)"
    assert second.active
    panel.cancel_job(second.key)
    assert second.state == "cancelled"


def test_an_error_lands_in_its_own_row_and_the_other_jobs_finish(qtbot, make_panel):
    panel = synthetic_panel(make_panel, synthetic_specs([]))
    image = smooth_image(64, 64)
    set_source(qtbot, panel, image)
    panel.set_checked("failing")
    panel.set_checked("quick")
    failures, results = [], []
    panel.job_failed.connect(lambda model_id, message: failures.append((model_id, message)))
    panel.result_ready.connect(results.append)
    with qtbot.waitSignal(panel.jobs_finished, timeout=30000):
        keys = panel.run()
    rows = {panel.jobs[k].spec.id: panel.jobs[k] for k in keys}
    assert failures == [("failing", "synthetic failure: this tile is on fire")]
    assert rows["failing"].state == "failed"
    assert rows["failing"].status_label.text() == "error: synthetic failure: this tile is on fire"
    assert rows["quick"].state == "done" and len(results) == 1
    np.testing.assert_allclose(results[0].image.data, image.data * 0.5, atol=1e-6)
    assert results[0].label.startswith("Synthetic quick · synthetic.pth · cpu · fp32 · ")
    assert QApplication.activeModalWidget() is None
    panel.clear_finished()
    assert panel.jobs == {}


def test_run_without_an_input_or_a_ticked_network_explains_itself(qtbot, make_panel):
    panel = synthetic_panel(make_panel, synthetic_specs([]))
    assert panel.rows["quick"].reasons() == ["no input open"] and not panel.run_button.isEnabled()
    assert panel.run() == [] and panel.message_label.text() == "Open an input first"
    set_source(qtbot, panel, smooth_image(32, 32))
    assert panel.run() == [] and panel.message_label.text() == "Tick a network that can run"
