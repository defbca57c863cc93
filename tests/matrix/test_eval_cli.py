"""`isp-viewer eval` through the matrix: resumes from --store, merges stores, writes every table."""

from __future__ import annotations

import json

from isp_viewer.cli import main
from tests.matrix.synthetic import write_set

BASE = ["eval", "--simulate-cfa", "GRBG", "--classical", "bilinear", "--classical", "malvar"]


def test_eval_resumes_merges_and_writes_long_pivot_and_json(tmp_path, capsys):
    folder = write_set(tmp_path / "set", n=2)
    io = ["--inputs", str(folder), "--refs", str(folder)]
    assert main([*BASE, *io, "--out", str(tmp_path / "a.csv"), "--store", str(tmp_path / "a.db")]) == 0
    first = capsys.readouterr()
    assert "4 runs computed on local" in first.err and "PSNR/SSIM on RGB" in first.out and "95 % CI" in first.out
    # another machine computed menon; merging its store leaves nothing to compute
    assert main(["eval", *io, "--simulate-cfa", "GRBG", "--classical", "menon", "--out", str(tmp_path / "b.csv"),
                 "--store", str(tmp_path / "b.db"), "--worst", "absolute,ssim", "--window", "16", "--top-k", "2"]) == 0
    capsys.readouterr()
    assert main([*BASE, "--classical", "menon", *io, "--out", str(tmp_path / "t.csv"),
                 "--store", str(tmp_path / "a.db"), "--merge", str(tmp_path / "b.db"), "--worst", "absolute,ssim",
                 "--window", "16", "--top-k", "2"]) == 0
    merged = capsys.readouterr()
    # bilinear and malvar run again for the new region searches; menon's runs came with b.db
    assert "merged" in merged.err and "4 runs computed" in merged.err and ", 2 read" in merged.err
    long_rows = (tmp_path / "t.long.csv").read_text().splitlines()
    assert long_rows[0] == "image,method,metric,value,convention" and len(long_rows) == 1 + 2 * 3 * 2
    wide = (tmp_path / "t.csv").read_text().splitlines()
    assert wide[0] == "method,image,PSNR,SSIM,convention" and wide[4].startswith("bilinear,std,")
    pivot = (tmp_path / "t.pivot.csv").read_text().splitlines()
    assert pivot[0].startswith("method,metric,mean,std,n,ci95_low,ci95_high")
    doc = json.loads((tmp_path / "t.json").read_text())
    menon = doc["images"]["img0"]["menon"]
    assert menon["PSNR"] > 20 and {r["error"] for r in menon["worst_regions"]} == {"absolute", "ssim"}
    assert all(r["w"] == 16 for r in menon["worst_regions"])
    assert main([*BASE, "--classical", "menon", *io, "--out", str(tmp_path / "t2.csv"),
                 "--store", str(tmp_path / "a.db"), "--worst", "absolute,ssim", "--window", "16", "--top-k", "2"]) == 0
    assert ": 0 runs computed" in capsys.readouterr().err
    assert (tmp_path / "t2.csv").read_text() == (tmp_path / "t.csv").read_text()


def test_default_store_lies_in_the_inputs_folder(tmp_path, capsys):
    folder = write_set(tmp_path / "set", n=1)
    assert main([*BASE, "--inputs", str(folder), "--refs", str(folder), "--out", str(tmp_path / "t.csv")]) == 0
    assert (folder / ".isp-viewer-matrix.db").is_file()
    assert str(folder / ".isp-viewer-matrix.db") in capsys.readouterr().err


def test_bad_options_are_one_line_and_exit_2(tmp_path, capsys):
    folder = write_set(tmp_path / "set", n=1)
    io = ["--inputs", str(folder), "--refs", str(folder), "--out", str(tmp_path / "t.csv")]
    for extra, words in ((["--metrics", "PSNR,nope"], "unknown metric"), (["--worst", "signed"], "worst regions"),
                         (["--tile", "8"], "--tile"), (["--merge", str(tmp_path / "none.db")], "does not exist")):
        assert main([*BASE, *io, *extra]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and words in err[0], err


def test_a_read_only_data_set_keeps_its_store_beside_out(tmp_path):
    from pathlib import Path

    from isp_viewer.matrix.command import default_store

    folder = write_set(tmp_path / "set", n=1)
    folder.chmod(0o555)
    try:
        assert default_store(folder, tmp_path / "out" / "t.csv") == tmp_path / "out" / "set.isp-viewer-matrix.db"
    finally:
        folder.chmod(0o755)
    assert default_store(folder, Path("t.csv")) == folder / ".isp-viewer-matrix.db"
