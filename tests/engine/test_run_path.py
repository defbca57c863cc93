"""The one run path for non-UI callers (`engine.run.run_through_engine`) against the full-frame
reference (`models.adapters.run_network`), with the packaged demosaicnet Bayer weights: tiled
output equal within 1e-3, progress, cancel, the result cache, and `isp-viewer process` on it."""

from __future__ import annotations

import json
import threading
from concurrent.futures import CancelledError

import cv2
import numpy as np
import pytest

from isp_viewer import cli
from isp_viewer.core.image import Image
from isp_viewer.engine import CPU_ONLY, ResultCache
from isp_viewer.engine import run as run_module
from isp_viewer.engine.run import make_engine, run_through_engine
from isp_viewer.io.images import simulate_mosaic
from isp_viewer.models.adapters import run_network
from isp_viewer.models.registry import get_spec, load_network
from tests.engine.synthetic import smooth_rgb

SPEC_ID = "demosaicnet_bayer"


@pytest.fixture(scope="module")
def mosaic_and_reference():
    """A 512x768 simulated GRBG mosaic and its full-frame demosaicnet Image (computed once)."""
    mosaic = simulate_mosaic(Image(smooth_rgb(512, 768, seed=3)), "GRBG")
    full = run_network(load_network(get_spec(SPEC_ID)), mosaic)
    return mosaic, full


def _engine(cache=None):
    return make_engine(cache, device_probe=lambda: CPU_ONLY, min_tile=32)


def test_tiled_engine_run_equals_the_full_frame_reference(mosaic_and_reference):
    mosaic, full = mosaic_and_reference
    reports = []
    engine = _engine()
    try:
        image = run_through_engine(get_spec(SPEC_ID), None, mosaic, device="cpu", tile=192, engine=engine,
                                   progress=reports.append)
    finally:
        engine.shutdown()
    assert image.data.shape == full.data.shape == (512, 768, 3)
    assert np.abs(image.data - full.data).max() < 1e-3
    assert image.meta["tiles"] == 12 and image.meta["tile_size"] == 192 and image.meta["device"] == "cpu"
    assert image.meta["weights_sha256"] == full.meta["weights_sha256"] and not image.meta["from_cache"]
    fractions = [p.fraction for p in reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and reports[-1].done == 12
    assert engine.networks_loaded == 1   # the strictly loaded network was handed over, not read twice


def test_a_set_cancel_stops_the_run_at_the_next_tile(mosaic_and_reference):
    mosaic, _ = mosaic_and_reference
    cancel = threading.Event()
    after_cancel = []

    def progress(p):
        if cancel.is_set():
            after_cancel.append(p)
        elif p.done >= 2:
            cancel.set()

    engine = _engine()
    try:
        with pytest.raises(CancelledError):
            run_through_engine(get_spec(SPEC_ID), None, mosaic, device="cpu", tile=64, engine=engine,
                               progress=progress, cancel=cancel)
    finally:
        engine.shutdown()
    assert cancel.is_set() and after_cancel == []   # 96 tiles planned; none reported after the cancel


def test_a_second_run_comes_from_the_result_cache(mosaic_and_reference, tmp_path):
    _, full = mosaic_and_reference
    small = simulate_mosaic(Image(full.data[:128, :192]), "GRBG")
    engine = _engine(ResultCache(tmp_path))
    try:
        first = run_through_engine(get_spec(SPEC_ID), None, small, device="cpu", engine=engine)
        second = run_through_engine(get_spec(SPEC_ID), None, small, device="cpu", engine=engine)
    finally:
        engine.shutdown()
    assert not first.meta["from_cache"] and second.meta["from_cache"]
    np.testing.assert_array_equal(first.data, second.data)


def test_process_command_runs_through_the_engine(tmp_path, monkeypatch):
    monkeypatch.setenv("ISPV_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(run_module, "_shared", {})   # a fresh shared engine with that cache
    rgb = smooth_rgb(256, 384, seed=5)
    png = tmp_path / "scene.png"
    cv2.imwrite(str(png), cv2.cvtColor(np.round(rgb * 255).astype(np.uint8), cv2.COLOR_RGB2BGR))
    out = tmp_path / "out"
    try:
        code = cli.main(["process", str(png), "--simulate-cfa", "GRBG", "--model", SPEC_ID, "--device", "cpu",
                         "--tile", "128", "--out", str(out)])
    finally:
        run_module._shared.pop("engine").shutdown()
    assert code == 0
    sidecar = json.loads((out / f"scene__{SPEC_ID}.json").read_text())
    assert sidecar["tiles"] == 6 and sidecar["tile_size"] == 128 and sidecar["device"] == "cpu"
    written = cv2.cvtColor(cv2.imread(str(out / f"scene__{SPEC_ID}.png"), cv2.IMREAD_UNCHANGED), cv2.COLOR_BGR2RGB)
    from isp_viewer.io.open import open_any

    full = run_network(load_network(get_spec(SPEC_ID)), open_any(png, simulate_cfa="GRBG"))
    assert np.abs(written / 65535.0 - np.clip(full.data, 0, 1)).max() < 1e-3
    assert any((tmp_path / "cache").glob("*.npy"))   # the CLI's runs are cached
