"""The CLI as a user runs it: one line and exit code 2 on bad input, JSON facts, renders."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from tests.io.test_raw import BAD


def run_cli(*args, cwd=None):
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "isp_viewer", *map(str, args)], capture_output=True,
                          text=True, timeout=300, cwd=cwd, env=env)


@pytest.mark.parametrize("folder,name,reason", BAD + [("raw_stripped", "DNG.dng", "")])
def test_bad_input_one_line_exit_2(data, folder, name, reason):
    proc = run_cli("info", data / folder / name)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert name in lines[0] and "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_info_json(data):
    proc = run_cli("info", data / "raw" / "Blackmagic.dng")
    assert proc.returncode == 0, proc.stderr
    facts = json.loads(proc.stdout)
    assert facts["cfa"] == "RGGB" and facts["white_level"] == 65535 and facts["black_levels"] == [512] * 4
    assert facts["camera"] == "Blackmagic Pocket Cinema Camera 4K" and facts["kind"] == "mosaic"
    linear = json.loads(run_cli("info", data / "raw" / "canon_eos_6d.dng").stdout)
    assert linear["kind"] == "linear" and linear["cfa"] is None


def test_render_16bit(data, tmp_path):
    out = tmp_path / "k.png"
    proc = run_cli("render", data / "raw" / "RAW_KODAK_DC50_é.KDC", "--demosaic", "VNG", "--bits", "16", "--out", out)
    assert proc.returncode == 0, proc.stderr
    img = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    assert img.dtype == np.uint16 and img.shape == (512, 768, 3)


def test_usage_errors_are_one_line(tmp_path):
    proc = run_cli("render", "x.dng")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    proc = run_cli("info", tmp_path / "missing.dng")
    assert proc.returncode == 2 and "not found" in proc.stderr


def test_models_table_lists_weights_and_licences():
    proc = run_cli("models")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    bayer = next(line for line in lines if line.startswith("demosaicnet_bayer"))
    assert "bayer.pth" in bayer and "MIT" in bayer and "match" in bayer
    assert "no public weights" in next(line for line in lines if line.startswith("sgnet"))
    assert "non-commercial" in next(line for line in lines if line.startswith("pynet "))


def test_process_demosaicnet_on_simulated_kodak(data, tmp_path):
    proc = run_cli("process", data / "paired/kodak24/kodim19.png", "--simulate-cfa", "GRBG",
                   "--model", "demosaicnet_bayer", "--device", "cpu", "--out", tmp_path)
    assert proc.returncode == 0, proc.stderr
    png = tmp_path / "kodim19__demosaicnet_bayer.png"
    sidecar = json.loads(png.with_suffix(".json").read_text())
    assert sidecar["model"] == "demosaicnet_bayer" and sidecar["device"] == "cpu" and sidecar["dtype"] == "float32"
    assert len(sidecar["weights_sha256"]) == 64 and sidecar["input"]["simulated_cfa"] == "GRBG"
    out = cv2.imread(str(png), cv2.IMREAD_UNCHANGED)[..., ::-1].astype(np.float64) / 65535
    ref = cv2.imread(str(data / "paired/kodak24/kodim19.png"))[..., ::-1].astype(np.float64) / 255
    psnr = 10 * np.log10(1 / np.mean((out[4:-4, 4:-4] - ref[4:-4, 4:-4]) ** 2))
    assert psnr > 38


def test_process_and_detect_errors(data, tmp_path):
    proc = run_cli("process", data / "raw/Blackmagic.dng", "--model", "srgan_leftthomas_x4", "--out", tmp_path)
    assert proc.returncode == 2 and "needs an RGB image" in proc.stderr
    proc = run_cli("process", data / "paired/kodak24/kodim19.png", "--model", "uhdfour_uhd", "--out", tmp_path)
    assert proc.returncode == 2 and "no weights found" in proc.stderr
    proc = run_cli("detect", data / "paired/kodak24/kodim19.png")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    proc = run_cli("detect", data.parent / "weights/demosaicnet/xtrans.pth")
    assert proc.returncode == 0 and proc.stdout.startswith("demosaicnet_xtrans")


def test_eval_table_matches_per_image_metrics(data, tmp_path):
    import shutil

    from isp_viewer.io.develop import classical_demosaic
    from isp_viewer.io.images import read_image, simulate_mosaic
    from isp_viewer.metrics import ISP_PAPER, psnr_ssim

    folder = tmp_path / "set"
    folder.mkdir()
    for name in ("kodim03.png", "kodim23.png"):
        shutil.copy(data / "paired/kodak24" / name, folder / name)
    proc = run_cli("eval", "--inputs", folder, "--refs", folder, "--simulate-cfa", "GRBG",
                   "--classical", "bilinear", "--classical", "malvar", "--out", tmp_path / "t.csv")
    assert proc.returncode == 0, proc.stderr
    rows = [line.split(",") for line in (tmp_path / "t.csv").read_text().splitlines()[1:]]
    got = {(r[0], r[1]): float(r[2]) for r in rows}
    ref = read_image(folder / "kodim23.png")
    want = psnr_ssim(classical_demosaic(simulate_mosaic(ref, "GRBG"), "malvar").rgb(), ref.rgb(), ISP_PAPER)
    assert got[("malvar", "kodim23")] == pytest.approx(want.psnr, abs=1e-6)
    assert got[("malvar", "mean")] > got[("bilinear", "mean")]
    assert "\\caption" in (tmp_path / "t.tex").read_text()
