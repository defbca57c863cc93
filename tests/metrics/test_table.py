"""MetricTable: statistics, sorting, and exports that carry their convention."""

import csv
import io
import math

import numpy as np
import pytest

from isp_viewer.metrics import ISP_PAPER, SR_PAPER, MetricTable


def _table():
    records = [
        ("bicubic", "baby", {"PSNR": 31.0, "SSIM": 0.86}),
        ("bicubic", "bird", {"PSNR": 30.0, "SSIM": 0.88}),
        ("bicubic", "woman", {"PSNR": 26.0, "SSIM": 0.83}),
        ("SRGAN_net", "baby", {"PSNR": 32.5, "SSIM": 0.90}),
        ("SRGAN_net", "bird", {"PSNR": 33.5, "SSIM": 0.92}),
        ("SRGAN_net", "woman", {"PSNR": 29.0, "SSIM": 0.80}),
    ]
    return MetricTable.from_records(SR_PAPER(4), records)


def test_layout_and_statistics():
    t = _table()
    assert t.methods == ("bicubic", "SRGAN_net")
    assert t.images == ("baby", "bird", "woman")
    assert t.metrics == ("PSNR", "SSIM")
    assert t.values.shape == (2, 3, 2)
    assert t.value("SRGAN_net", "bird", "PSNR") == 33.5
    assert t.mean("bicubic", "PSNR") == pytest.approx(29.0)
    assert t.std("bicubic", "PSNR") == pytest.approx(np.std([31.0, 30.0, 26.0], ddof=1))
    mean, std = t.summary()["SRGAN_net"]["SSIM"]
    assert mean == pytest.approx((0.90 + 0.92 + 0.80) / 3)
    assert std == pytest.approx(np.std([0.90, 0.92, 0.80], ddof=1))
    with pytest.raises(ValueError):
        t.values[0, 0, 0] = 1.0  # frozen values


def test_missing_values_are_ignored_in_statistics():
    t = MetricTable.from_records(ISP_PAPER, [("a", "x", {"PSNR": 30.0}), ("a", "y", {"PSNR": 32.0}),
                                             ("b", "x", {"PSNR": 40.0})])
    assert math.isnan(t.value("b", "y", "PSNR"))
    assert t.mean("b", "PSNR") == 40.0 and t.count("b", "PSNR") == 1
    assert math.isnan(t.std("b", "PSNR"))


def test_sort_uses_each_metrics_direction():
    t = _table()
    assert t.sorted("PSNR").methods == ("SRGAN_net", "bicubic")
    assert t.sorted("PSNR", best_first=False).methods == ("bicubic", "SRGAN_net")
    s = t.sorted("PSNR")
    assert s.value("bicubic", "woman", "PSNR") == 26.0  # rows move with their names
    flip = MetricTable.from_records(ISP_PAPER, [("a", "x", {"FLIP": 0.2}), ("b", "x", {"FLIP": 0.1})])
    assert flip.sorted("FLIP").methods == ("b", "a")  # lower FLIP is better


def test_csv_contains_values_statistics_and_convention(tmp_path):
    t = _table()
    path = tmp_path / "m.csv"
    text = t.to_csv(str(path))
    assert path.read_text(encoding="utf-8") == text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 2 * (3 + 2)
    assert all(r["convention"] == "PSNR/SSIM on Y (BT.601, BasicSR float Y), crop 4 px, uint8, range 255" for r in rows)
    baby = next(r for r in rows if r["method"] == "SRGAN_net" and r["image"] == "baby")
    assert float(baby["PSNR"]) == 32.5
    mean = next(r for r in rows if r["method"] == "bicubic" and r["image"] == "mean")
    assert float(mean["PSNR"]) == pytest.approx(29.0)


def test_latex_has_caption_with_convention_and_bold_best():
    tex = _table().to_latex()
    assert ("\\caption{SR paper, BasicSR Y (Y, crop = scale, uint8): PSNR/SSIM on Y (BT.601, BasicSR float Y), "
            "crop 4 px, uint8, range 255." in tex)
    assert "over 3 images" in tex
    assert "SRGAN\\_net" in tex  # escaped
    assert "\\textbf{31.67 $\\pm$" in tex  # best PSNR mean
    assert "29.00 $\\pm$ 2.65" in tex
    assert "PSNR $\\uparrow$" in tex
    assert tex.count("\\\\") == 3  # header + two methods
    assert "\\toprule" in tex and "\\bottomrule" in tex
