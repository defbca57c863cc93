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
