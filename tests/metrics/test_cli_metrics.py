"""isp-viewer metrics with the catalogue: --metrics, --no-reference, reasons for missing backbones."""

import json

import cv2
import numpy as np
import pytest

from isp_viewer.cli import main
from isp_viewer.metrics import ISP_PAPER
from isp_viewer.metrics.catalogue import CATALOGUE, METRIC_NAMES, compute_metrics, resolve, score


@pytest.fixture()
def images(tmp_path):
    yy, xx = np.mgrid[:200, :200]
    gt = np.stack([(xx * 1.2) % 256, (yy * 0.9) % 256, ((xx + yy) * 0.5) % 256], axis=2).astype(np.uint8)
    gt = cv2.GaussianBlur(gt, (0, 0), 1.5)
    noisy = np.clip(gt + np.random.default_rng(0).normal(0, 6, gt.shape), 0, 255).astype(np.uint8)
    paths = {"gt": tmp_path / "gt.png", "a": tmp_path / "a.png", "b": tmp_path / "b.png"}
    for key, img in (("gt", gt), ("a", cv2.GaussianBlur(gt, (0, 0), 1.0)), ("b", noisy)):
        cv2.imwrite(str(paths[key]), img)
    return {k: str(v) for k, v in paths.items()}


def _run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_has_each_metric_with_its_convention(images, capsys):
    code, out, _ = _run(capsys, "metrics", "--ref", images["gt"], images["a"], images["b"],
                        "--metrics", "psnr,ssim,de2000,zipper,false-colour", "--json")
    assert code == 0
    doc = json.loads(out)
    assert [m["name"] for m in doc["metrics"]] == ["PSNR", "SSIM", "dE2000", "zipper", "false-colour"]
    assert "CIEDE2000" in doc["metrics"][2]["convention"] and "Lu & Tan" in doc["metrics"][3]["convention"]
    a, b = doc["results"]
    gt = cv2.imread(images["gt"])[:, :, ::-1]
    other = cv2.imread(images["b"])[:, :, ::-1]
    expected = {v.name: v.value for v in compute_metrics("psnr,de2000", other, gt)}
    assert b["psnr_db"] == pytest.approx(expected["PSNR"], abs=1e-4)
    assert b["de2000"] == pytest.approx(expected["dE2000"], abs=1e-6)
    assert a["zipper"] >= 0 and a["false-colour"] > 0


def test_missing_backbone_exits_2_with_the_reason(images, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty"))
    for name, file in (("lpips", "alexnet-owt-7be5be79.pth"), ("dists", "vgg16-397923af.pth")):
        code, out, err = _run(capsys, "metrics", "--ref", images["gt"], images["a"], "--metrics", f"psnr,{name}")
        assert code == 2 and out == ""
        assert len(err.strip().splitlines()) == 1 and file in err and "not downloaded" in err
    code, _, err = _run(capsys, "metrics", "--ref", images["gt"], images["a"], "--metrics", "lpips",
                        "--backbone", "alex=" + str(tmp_path / "nowhere.pth"))
    assert code == 2 and "nowhere.pth" in err


def test_no_reference_scores_niqe_and_brisque(images, capsys):
    code, out, _ = _run(capsys, "metrics", images["a"], images["b"], "--no-reference",
                        "--metrics", "niqe,brisque", "--json")
    assert code == 0
    rows = json.loads(out)["results"]
    from isp_viewer.metrics.niqe import niqe

    assert rows[0]["niqe"] == pytest.approx(niqe(cv2.imread(images["a"])[:, :, ::-1]), abs=1e-6)
    assert all(np.isfinite(r["brisque"]) for r in rows)
    code, _, err = _run(capsys, "metrics", images["a"], "--no-reference", "--metrics", "psnr")
    assert code == 2 and "needs a reference" in err
    code, _, err = _run(capsys, "metrics", images["a"])
    assert code == 2 and "--ref is required" in err


def test_catalogue_entries_and_lookup():
    assert resolve("psnr, DE2000,lpips,false-color") == ("PSNR", "dE2000", "LPIPS", "false-colour")
    assert {n for n in METRIC_NAMES if not CATALOGUE[n].needs_reference} == {"NIQE", "BRISQUE"}
    assert all(CATALOGUE[n].description for n in METRIC_NAMES)
    assert CATALOGUE["NIQE"].unavailable() == "" and CATALOGUE["dE2000"].unavailable() == ""
    ref = np.random.default_rng(4).random((32, 32, 3)).astype(np.float32)
    out = score(np.clip(ref + 0.02, 0, 1), ref, ISP_PAPER, ["PSNR", "dE2000-p95"])
    assert list(out) == ["PSNR", "dE2000-p95"] and out["PSNR"] == pytest.approx(20 * np.log10(1 / 0.02), abs=0.5)


def test_align_reports_raw_and_aligned_scores_with_the_transform(capsys, tmp_path):
    texture = cv2.GaussianBlur(np.random.default_rng(5).random((200, 200, 3)).astype(np.float32), (0, 0), 2.0)
    gt = np.uint8(np.clip((texture - texture.min()) / np.ptp(texture) * 255, 0, 255))
    cv2.imwrite(str(tmp_path / "gt.png"), gt)
    shifted = cv2.warpAffine(gt, np.float32([[1, 0, 2.0], [0, 1, -1.0]]), (200, 200), flags=cv2.INTER_CUBIC,
                             borderMode=cv2.BORDER_REFLECT)
    path = tmp_path / "shifted.png"
    cv2.imwrite(str(path), shifted)
    code, out, _ = _run(capsys, "metrics", "--ref", str(tmp_path / "gt.png"), str(path), "--align", "translation",
                        "--json")
    assert code == 0
    row = json.loads(out)["results"][0]
    assert row["aligned_psnr_db"] > row["psnr_db"] + 5 and row["aligned_ssim"] > row["ssim"]
    assert row["transform_matrix"][0][2] == pytest.approx(2.0, abs=0.1)
    assert row["transform_matrix"][1][2] == pytest.approx(-1.0, abs=0.1)
    assert row["transform"].startswith("translation: shift (+2.0")
