"""`isp-viewer compare` -> `isp-viewer export`: a headless comparison session and its figure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from isp_viewer.cli import main
from isp_viewer.export.figure_export import figure_for
from isp_viewer.export.provider import SessionImageProvider
from isp_viewer.export.session_file import load

SRGAN_X4 = "srgan_leftthomas/netG_epoch_4_100.pth"


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def captions(session: Path) -> dict[str, str]:
    doc = load(session)
    fig = figure_for(doc, doc.figures["figure"], SessionImageProvider(doc, session.parent))
    return {t.text for t in fig.texts if t.role == "caption"}, fig


def test_demosaic_comparison_builds_one_figure_that_export_writes(capsys, data, tmp_path) -> None:
    from isp_viewer.io.develop import classical_demosaic
    from isp_viewer.io.images import read_image, simulate_mosaic
    from isp_viewer.metrics import ISP_PAPER, psnr_ssim

    gt_path = data / "paired/kodak24/kodim05.png"
    session = tmp_path / "work" / "kodim05.ispv"
    code, out, err = run(capsys, "compare", gt_path, "--simulate-cfa", "GRBG", "--method", "classical:malvar",
                         "--method", "classical:bilinear", "--roi", "100,100,60,40", "--roi", "300,250,50,50",
                         "--out", session)
    assert (code, err) == (0, "")
    assert "convention: ISP paper" in out and "reference: in1 (ground truth)" in out
    doc = load(session)
    assert [m.label for m in doc.methods] == ["Ground truth", "Malvar-He-Cutler", "Bilinear"]
    assert [r.region.as_tuple() for r in doc.rois] == [(100, 100, 60, 40), (300, 250, 50, 50)]
    assert doc.reference == "in1" and doc.inputs[0].simulate_cfa == "GRBG" and list(doc.figures) == ["figure"]

    # the captions are PSNR against the ground truth, computed independently here
    gt = read_image(gt_path)
    expected = psnr_ssim(classical_demosaic(simulate_mosaic(gt, "GRBG"), "malvar").rgb(), gt.rgb(), ISP_PAPER)
    texts, _fig = captions(session)
    assert f"PSNR {expected.psnr:.2f} dB · SSIM {expected.ssim:.4f}" in texts

    for suffix in ("pdf", "png"):
        code, out, err = run(capsys, "export", session, "--out", tmp_path / f"fig.{suffix}")   # no --figure needed
        assert (code, err) == (0, "") and (tmp_path / f"fig.{suffix}").stat().st_size > 10_000
    assert (tmp_path / "fig.pdf").read_bytes().startswith(b"%PDF")


def test_super_resolution_comparison_scores_on_y_crop_scale(capsys, shared, data, tmp_path) -> None:
    """Ground truth -> bicubic x1/4 -> SRGAN x4; the caption equals `metrics --preset sr-y --scale 4`."""
    gt = data / "paired/sr_set5/butterfly_GT.bmp"
    weights = shared / "weights" / SRGAN_X4
    code, out, err = run(capsys, "process", gt, "--simulate-lr", "bicubic:4", "--model", "srgan_leftthomas_x4",
                         "--weights", weights, "--device", "cpu", "--out", tmp_path / "proc")
    assert code == 0, err
    sr_png = tmp_path / "proc" / "butterfly_GT__srgan_leftthomas_x4.png"
    assert "64x64" in out and "256x256" in out                      # LR input, x4 output
    code, out, err = run(capsys, "metrics", "--preset", "sr-y", "--scale", "4", "--ref", gt, sr_png, "--json")
    psnr = json.loads(out)["results"][0]["psnr_db"]

    session = tmp_path / "sr.ispv"
    code, out, err = run(capsys, "compare", gt, "--simulate-lr", "bicubic:4", "--model", "srgan_leftthomas_x4",
                         "--weights", weights, "--roi", "100,100,50,50", "--out", session)
    assert code == 0, err
    doc = load(session)
    assert doc.inputs[0].simulate_lr == 4
    assert doc.metric_convention["channel"] == "y" and doc.metric_convention["crop_border"] == 4
    texts, fig = captions(session)
    caption = next(t for t in texts if t.startswith("PSNR"))
    assert float(caption.split()[1]) == pytest.approx(psnr, abs=0.006)   # the PNG is 16-bit, the figure float
    footnote = " ".join(t.text for t in fig.texts if t.role == "footnote").replace("\n", " ")
    assert "y channel" in footnote and "4 px border cropped" in footnote
    assert 20 < psnr < 35   # a real SR result, not the ground truth against itself


def test_real_raw_without_ground_truth_has_no_metric_captions(capsys, data, tmp_path) -> None:
    raw = data / "raw" / "RAW_KODAK_DC50_é.KDC"
    session = tmp_path / "raw.ispv"
    code, out, err = run(capsys, "compare", raw, "--method", "libraw:AHD", "--method", "classical:malvar",
                         "--out", session)
    assert code == 0, err
    doc = load(session)
    assert doc.reference == "" and not doc.figures["figure"].show_captions
    assert "no ground truth" in out
    assert [m.label for m in doc.methods] == ["LibRaw AHD", "Malvar-He-Cutler"]


@pytest.mark.parametrize("argv, message", [
    (["--simulate-lr", "bicubic:5"], "bicubic:S"),
    (["--method", "libraw:AHD"], "LibRaw renders camera RAW"),
    (["--method", "sharpen:3"], "use libraw:ALGORITHM"),
    (["--model", "demosaicnet_bayer"], "needs a RAW mosaic"),
    (["--simulate-cfa", "GRBG", "--method", "classical:malvar", "--roi", "480,480,40,40"], "outside the 500x500"),
    (["--simulate-cfa", "GRBG", "--simulate-lr", "bicubic:4"], "not allowed with"),
])
def test_bad_requests_are_one_line_exit_2(capsys, data, tmp_path, argv, message) -> None:
    code, _out, err = run(capsys, "compare", data / "paired/kodak24/kodim05.png", *argv, "--out", tmp_path / "x.ispv")
    assert code == 2 and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "x.ispv").exists()


def test_export_asks_for_a_figure_name_only_when_there_are_several(capsys, data, tmp_path) -> None:
    from dataclasses import replace

    from isp_viewer.export.session_file import save

    session = tmp_path / "s.ispv"
    run(capsys, "compare", data / "paired/kodak24/kodim05.png", "--simulate-cfa", "RGGB", "--method",
        "classical:bilinear", "--out", session)
    doc = load(session)
    save(doc.with_figure("other", replace(doc.figures["figure"], columns=1)), session)
    code, _out, err = run(capsys, "export", session, "--out", tmp_path / "f.png")
    assert code == 2 and "name one with --figure" in err
