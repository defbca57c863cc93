"""The CLI on inputs researchers really give it: exit 2 and one line for what cannot work,
a warning line for what had to be assumed, valid JSON, and no window for a mistyped command."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from isp_viewer import cli
from isp_viewer.io.dng import write_linear_dng
from tests.io.test_inputs import lying_png, scanner_rgb
from tests.test_cli import run_cli


def call(capfd, *args):
    """(exit code, stdout, stderr lines) of `isp-viewer ARGS` run in this process."""
    code = cli.main([str(a) for a in args])
    out, err = capfd.readouterr()
    return code, out, err.strip().splitlines()


def one_line_error(capfd, *args) -> str:
    code, out, err = call(capfd, *args)
    assert code == 2 and out == "" and len(err) == 1, (code, out, err)
    assert "Traceback" not in err[0] and "internal error" not in err[0]
    return err[0]


@pytest.fixture
def pngs(tmp_path):
    rng = np.random.default_rng(0)
    big = rng.integers(0, 256, (500, 500, 3), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "big.png"), big)
    cv2.imwrite(str(tmp_path / "one.png"), big[:1, :1])
    return tmp_path


def test_scanner_stack_info_says_which_white_level_it_used(capfd, tmp_path):
    path = write_linear_dng(tmp_path / "scan.dng", scanner_rgb(), white=255)
    code, out, err = call(capfd, "info", path)
    assert code == 0
    facts = json.loads(out)
    assert facts["white_level"] == 65535 and facts["white_level_stated"] == 255 and len(facts["warnings"]) == 1
    assert len(err) == 1 and err[0].startswith("isp-viewer: warning: scan.dng: stated white level 255")


def test_info_and_render_refuse_the_pruned_dng_alike(capfd, data, tmp_path):
    path = data / "raw" / "IMG_1361.dng"
    assert "no image data" in one_line_error(capfd, "info", path)
    assert "no image data" in one_line_error(capfd, "render", path, "--out", tmp_path / "black.png")
    assert not (tmp_path / "black.png").exists()


def test_unsupported_output_type_is_refused_before_decoding(capfd, tmp_path):
    # The input does not even exist: the output is checked first, so that is what the line is about.
    line = one_line_error(capfd, "render", tmp_path / "missing.dng", "--out", tmp_path / "out.jpx")
    assert "out.jpx" in line and ".png .tif .tiff .jpg .jpeg .bmp" in line
    line = one_line_error(capfd, "render", tmp_path / "missing.dng", "--bits", "16", "--out", tmp_path / "o.jpg")
    assert "8 bits" in line
    line = one_line_error(capfd, "export", tmp_path / "missing.ispv", "--out", tmp_path / "fig.gif")
    assert "gif" in line and "missing.ispv" not in line


def test_metrics_refuses_a_500x_factor_and_sizes_that_do_not_scale(capfd, pngs):
    line = one_line_error(capfd, "metrics", "--ref", pngs / "big.png", pngs / "one.png")
    assert "1x1" in line and "500x500" in line and "--max-scale" in line
    cv2.imwrite(str(pngs / "odd.png"), np.zeros((300, 500, 3), np.uint8))
    line = one_line_error(capfd, "metrics", "--ref", pngs / "big.png", pngs / "odd.png")
    assert "500x300" in line and "500x500" in line
    code, out, _ = call(capfd, "metrics", "--ref", pngs / "big.png", pngs / "one.png", "--max-scale", "500", "--json")
    assert code == 0 and "1/500" in json.loads(out)["results"][0]["note"]


def test_process_names_the_real_size_of_a_one_pixel_image(capfd, pngs, tmp_path):
    line = one_line_error(capfd, "process", pngs / "one.png", "--simulate-cfa", "GRBG", "--model", "demosaicnet_bayer",
                          "--out", tmp_path / "o")
    assert "1x1" in line and "0x0" not in line


def test_metrics_json_is_valid_for_identical_images(capfd, pngs):
    near = np.clip(cv2.imread(str(pngs / "big.png")).astype(int) + 1, 0, 255).astype(np.uint8)
    cv2.imwrite(str(pngs / "near.png"), near)
    code, out, _ = call(capfd, "metrics", "--ref", pngs / "big.png", pngs / "big.png", pngs / "near.png", "--json")
    assert code == 0 and "Infinity" not in out
    same, near = json.loads(out)["results"]
    assert same["psnr_db"] is None and same["identical"] is True and same["ssim"] == pytest.approx(1.0)
    assert near["identical"] is False and 40 < near["psnr_db"] < 60


def test_metrics_roi_partly_outside_is_clamped_with_a_warning(capfd, pngs):
    code, out, err = call(capfd, "metrics", "--ref", pngs / "big.png", pngs / "big.png",
                          "--roi", "450,450,100,100", "--json")
    assert code == 0 and json.loads(out)["roi_used"] == [450, 450, 50, 50]
    assert len(err) == 1 and "warning" in err[0] and "(450, 450, 50, 50)" in err[0]
    assert "outside" in one_line_error(capfd, "metrics", "--ref", pngs / "big.png", pngs / "big.png",
                                       "--roi", "600,0,5,5")


@pytest.mark.parametrize("name", ["x.png", "x.dng", "x.npy"])
def test_a_folder_is_reported_as_a_folder_for_every_kind(capfd, tmp_path, name):
    (tmp_path / name).mkdir()
    assert one_line_error(capfd, "info", tmp_path / name).endswith(f"{name}: is a folder, not a file")


def test_lying_png_header_prints_exactly_one_line(capfd, tmp_path):
    lying_png(tmp_path / "liar.png")
    line = one_line_error(capfd, "info", tmp_path / "liar.png")
    assert "liar.png" in line and "Not enough image data" in line and "libpng" not in line


def test_models_says_which_names_and_where(capfd, tmp_path, monkeypatch):
    monkeypatch.setenv("ISPV_WEIGHTS", str(tmp_path / "nowhere"))
    code, out, _ = call(capfd, "models")
    assert code == 0
    pynet = next(line for line in out.splitlines() if line.startswith("pynet "))
    assert "not found: pynet_level_0.pth" in pynet
    footer = out.splitlines()[-1]
    assert f"$ISPV_WEIGHTS = {tmp_path / 'nowhere'} (missing)" in footer and "./weights" in footer
    assert "the checkout's weights/" in footer


def test_npy_packed_planes_through_info_and_process(capfd, tmp_path):
    rng = np.random.default_rng(3)
    planes = rng.integers(0, 4096, (16, 16, 4), dtype=np.uint16)
    np.save(tmp_path / "frame.npy", planes)
    code, out, _ = call(capfd, "info", tmp_path / "frame.npy", "--bayer-cfa", "GRBG", "--bayer-bits", "12")
    facts = json.loads(out)
    assert code == 0 and facts["cfa"] == "GRBG" and facts["white_level"] == 4095 and facts["width"] == 32
    assert "--bayer-cfa" in one_line_error(capfd, "info", tmp_path / "frame.npy")
    assert "10-bit" in one_line_error(capfd, "info", tmp_path / "frame.npy",
                                      "--bayer-cfa", "RGGB", "--bayer-bits", "10")
    code, out, err = call(capfd, "process", tmp_path / "frame.npy", "--bayer-cfa", "GRBG", "--bayer-bits", "12",
                          "--model", "demosaicnet_bayer", "--device", "cpu", "--out", tmp_path / "o")
    assert code == 0, err
    assert cv2.imread(str(tmp_path / "o" / "frame__demosaicnet_bayer.png"), cv2.IMREAD_UNCHANGED).shape[:2] == (32, 32)


def test_unknown_command_word_is_one_line_and_no_window(tmp_path):
    proc = run_cli("compair", "x.png", cwd=tmp_path)   # a subprocess: a window would abort it (exit 134)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        "isp-viewer: error: unknown command or file not found: compair (did you mean compare?)"]


def test_command_names_come_from_the_parser():
    parser = cli.build_parser()
    assert set(cli.COMMANDS) | {"gui"} <= cli._command_names(parser)
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    sub.add_parser("brandnew")
    assert "brandnew" in cli._command_names(parser)
