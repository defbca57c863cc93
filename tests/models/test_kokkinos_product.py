"""Kokkinos MMNet in the product: every Bayer phase on a Kodak crop, block mode, the engine's
per-stage progress and cancel, and the CLI's --noise-sigma."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from isp_viewer.cli import main
from isp_viewer.core.image import Image
from isp_viewer.io.images import mosaic_from_rgb, read_image, simulate_mosaic, write_image
from isp_viewer.metrics.convention import Convention
from isp_viewer.metrics.fidelity import psnr
from isp_viewer.models.adapters import run_network
from isp_viewer.models.nets import kokkinos, kokkinos_cfa
from isp_viewer.models.registry import get_spec, load_network

CROP8 = Convention(channel="rgb", data_range=1.0, crop_border=8, quantize_uint8=False, name="crop 8")


@pytest.fixture(scope="module")
def kodim19(shared) -> Image:
    return read_image(shared / "data/paired/kodak24/kodim19.png")


@pytest.fixture(scope="module")
def weights(shared):
    return shared / "weights/kokkinos"


@pytest.fixture(scope="module")
def bayer(weights):
    return load_network(get_spec("kokkinos_bayer"), weights / "bayer/model_best.pth")


def test_every_bayer_phase_on_a_kodak_crop(kodim19, bayer, reference):
    """RGGB through the product path reproduces upstream's PSNR on the golden a crop (64x64 at row
    216, col 180); another phase of the same scene, one row/column further out, is moved to RGGB
    and back and gives the RGGB result on the shared pixels (up to the padded edge)."""
    meta = json.loads((reference / "kokkinos/golden/bayer_a64x64.json").read_text())
    rgb = kodim19.rgb()
    crop = kodim19.with_data(rgb[216:280, 180:244])
    ref = run_network(bayer, simulate_mosaic(crop, "RGGB")).rgb()
    assert psnr(ref, crop.rgb(), CROP8) == pytest.approx(meta["psnr_vs_gt_crop8"], abs=0.01)
    base = mosaic_from_rgb(crop.rgb(), "RGGB")
    np.testing.assert_allclose(bayer.spec.infer(bayer.net, base, cfa="RGGB", **bayer.spec.options), ref, atol=1e-6)
    for phase, (dy, dx) in {"GRBG": (0, 1), "GBRG": (1, 0), "BGGR": (1, 1)}.items():
        wider = rgb[216 - dy:280, 180 - dx:244]          # pixel (dy, dx) is RGGB's (0, 0); same far edges
        out = bayer.spec.infer(bayer.net, mosaic_from_rgb(wider, phase), cfa=phase, **bayer.spec.options)
        diff = np.abs(out[dy:, dx:] - ref)[8:-8, 8:-8] * 255
        assert diff.max() < 0.5 and diff.mean() < 0.1, (phase, diff.max(), diff.mean())


def test_block_mode_runs_each_block_alone_with_reflect_margins(kodim19, bayer, monkeypatch):
    monkeypatch.setattr(kokkinos, "BLOCK", 32)
    spec, net = bayer.spec, bayer.net
    mosaic = simulate_mosaic(kodim19.with_data(kodim19.rgb()[200:264, 200:270]), "RGGB").normalized()
    blocks = spec.infer(net, mosaic, cfa="RGGB", frame="blocks")
    # Block (32:64, 32:70) (the last column block absorbs the 6 px remainder) equals one whole run
    # of that block reflect-padded by 8 px, cropped back.
    piece = np.pad(mosaic[32:64, 32:70], kokkinos.BLOCK_MARGIN, mode="reflect")
    alone = spec.infer(net, piece, cfa="RGGB", frame="whole")[8:-8, 8:-8]
    np.testing.assert_allclose(blocks[32:64, 32:70], alone, atol=2e-6)
    whole = spec.infer(net, mosaic, cfa="RGGB", frame="whole")
    assert np.abs(whole - blocks).max() > 1e-3     # the L2 radius depends on the size: not tile-safe
    monkeypatch.setattr(kokkinos, "WHOLE_FRAME_MAX_PIXELS", 1000)
    np.testing.assert_array_equal(spec.infer(net, mosaic, cfa="RGGB", frame="auto"), blocks)
    assert not spec.tiling_safe and spec.reports_progress


def test_engine_reports_every_stage_and_cancels_between_stages(kodim19, weights):
    from isp_viewer.engine import Engine, Job
    from isp_viewer.engine.devices import CPU_ONLY

    mosaic = simulate_mosaic(kodim19.with_data(kodim19.rgb()[200:248, 200:248]), "GBRG").normalized()
    path = weights / "bayer/model_best.pth"
    fractions = []
    with Engine(device_probe=lambda: CPU_ONLY) as engine:
        result = engine.run(Job.create(mosaic, "kokkinos_bayer", cfa="GBRG", weights=path, device="cpu"),
                            progress=lambda p: fractions.append(p.fraction))
        assert result.output.shape == (48, 48, 3) and "whole-frame" in result.notes[0]
        stage_steps = [f for f in fractions if 0 < f < 1]
        assert len(stage_steps) == kokkinos.STAGES - 1 and fractions == sorted(fractions) and fractions[-1] == 1.0

        started = threading.Event()

        def on_progress(p):
            if p.fraction > 0:
                started.set()
                future.cancel()

        future = engine.submit(Job.create(mosaic, "kokkinos_bayer", cfa="GBRG", weights=path, device="cpu",
                                          channel="c"), progress=on_progress)
        with pytest.raises(Exception) as err:
            future.result(timeout=60)
        assert started.is_set() and future.cancelled(), err


def test_noise_sigma_reaches_the_network_and_the_label(kodim19, weights, tmp_path, capsys):
    crop = kodim19.rgb()[216:264, 180:228]
    rng = np.random.default_rng(0)
    spec = get_spec("kokkinos_bayer_noisy")
    loaded = load_network(spec, weights / "bayer_noisy/model_best.pth")
    source = simulate_mosaic(kodim19.with_data(np.clip(crop + rng.normal(0, 5 / 255, crop.shape), 0, 1)), "RGGB")
    estimated = run_network(loaded, source)
    given = run_network(loaded, source, options={"noise_sigma": 5.0})
    assert given.label == "Kokkinos MMNet (Bayer, noisy) (σ=5/255)" and estimated.label == spec.name
    assert np.abs(given.rgb() - estimated.rgb()).max() > 1e-3
    x = source.normalized()
    np.testing.assert_allclose(given.rgb(), spec.infer(loaded.net, x, cfa="RGGB", noise_sigma=5.0), atol=1e-6)

    png = tmp_path / "in" / "k19.png"
    png.parent.mkdir()
    write_image(png, Image(crop.astype(np.float32)), bits=8)
    rc = main(["process", str(png), "--simulate-cfa", "GRBG", "--model", "kokkinos_bayer_noisy", "--weights",
               str(weights / "bayer_noisy/model_best.pth"), "--noise-sigma", "5", "--out", str(tmp_path / "out")])
    assert rc == 0
    sidecar = json.loads((tmp_path / "out" / "k19__kokkinos_bayer_noisy.json").read_text())
    assert sidecar["options"] == {"noise_sigma": 5.0} and "σ=5/255" in sidecar["label"]
    assert main(["process", str(png), "--simulate-cfa", "GRBG", "--model", "demosaicnet_bayer",
                 "--noise-sigma", "5", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "noise level" in err[0]


def test_eval_states_the_noise_sigma_in_the_table(weights, tmp_path, monkeypatch, kodim19):
    monkeypatch.setenv("ISPV_WEIGHTS", str(weights.parent))
    folder = tmp_path / "set"
    folder.mkdir()
    write_image(folder / "a.png", kodim19.with_data(kodim19.rgb()[216:256, 180:220]), bits=8)
    out = tmp_path / "t.csv"
    assert main(["eval", "--inputs", str(folder), "--refs", str(folder), "--simulate-cfa", "BGGR",
                 "--model", "kokkinos_bayer_noisy", "--noise-sigma", "2.5", "--out", str(out)]) == 0
    rows = out.read_text().splitlines()
    assert rows[1].startswith("kokkinos_bayer_noisy (σ=2.5/255),a,")
    assert float(rows[1].split(",")[2]) > 30


def test_xtrans_any_cell_shift_and_labelling_in_the_engine_path(kodim19, weights):
    spec = get_spec("kokkinos_xtrans")
    net = load_network(spec, weights / "xtrans/model_best.pth").net
    rgb = kodim19.rgb()[216:264, 180:228]
    cell = np.array(list(kokkinos_cfa.XTRANS_LAYOUT)).reshape(6, 6)
    shifted = "".join(np.roll(cell, (-2, -3), axis=(0, 1)).ravel())
    out = spec.infer(net, mosaic_from_rgb(rgb, shifted), cfa=shifted, **spec.options)
    assert out.shape == rgb.shape
    assert psnr(out, rgb, CROP8) > 29
