"""Super-resolution as a researcher runs it: ground truth -> simulated ×1/4 input -> SRGAN ×4 ->
Y / crop-4 PSNR in the table, equal to `isp-viewer metrics --preset sr-y --scale 4`."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("PySide6", reason="GUI workflow tests need PySide6")

from isp_viewer.cli import main
from tests.workflows.h_driver import check_box, click, drop_files, ready_items, wait_idle

SRGAN = "srgan_leftthomas_x4"


def test_ground_truth_simulate_x4_srgan_scored_like_the_cli(qtbot, weighted_window, shots, request, tmp_path, shared,
                                                            data, capsys) -> None:
    win = weighted_window
    gt_path = data / "paired/sr_set5/butterfly_GT.bmp"
    drop_files(win, [gt_path])
    qtbot.waitUntil(lambda: len(ready_items(win)) == 1, timeout=30000)
    wait_idle(qtbot, win)
    shots(win, "ground_truth_opened")
    assert win.session.reference_chosen is False          # nobody chose it: not called ground truth yet

    box = win.sr_tools
    assert box.scale.currentText() == "×4"
    click(box.button)
    qtbot.waitUntil(lambda: len(ready_items(win)) == 2, timeout=30000)
    wait_idle(qtbot, win)
    gt = win.session.reference
    lr = next(i for i in ready_items(win) if i.id != gt.id)
    assert "ground truth" in gt.label and "bicubic ×1/4" in lr.label
    assert (lr.image.width, lr.image.height) == (64, 64) and (gt.image.width, gt.image.height) == (256, 256)
    convention = win.analysis.convention_label.text()
    assert "Y (BT.601, BasicSR float Y), crop 4 px, uint8, range 255" in convention   # chosen for ×4, and shown
    assert win.analysis.convention.currentText().startswith("SR paper ×4")
    shots(win, "lr_input_simulated")

    panel = win.models
    row = panel.rows[SRGAN]
    qtbot.waitUntil(row.checkbox.isEnabled, timeout=60000)   # weights found, the RGB input fits
    check_box(row.checkbox)
    assert row.checkbox.isChecked()
    click(panel.run_button)
    qtbot.waitUntil(lambda: len(ready_items(win)) == 3, timeout=120000)
    wait_idle(qtbot, win)
    table = win.analysis.table
    qtbot.waitUntil(lambda: any("SRGAN" in (table.item(r, 0).text() if table.item(r, 0) else "")
                                for r in range(table.rowCount())), timeout=30000)
    wait_idle(qtbot, win)
    sr_row = next(r for r in range(table.rowCount()) if "SRGAN" in table.item(r, 0).text())
    shown_psnr = float(table.item(sr_row, 1).text())
    shots(win, "srgan_scored_on_hr_grid")

    # the same protocol on the command line
    out = tmp_path / "cli"
    assert main(["process", str(gt_path), "--simulate-lr", "bicubic:4", "--model", SRGAN, "--weights",
                 str(shared / "weights/srgan_leftthomas/netG_epoch_4_100.pth"), "--device", "cpu",
                 "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["metrics", "--preset", "sr-y", "--scale", "4", "--ref", str(gt_path),
                 str(out / f"butterfly_GT__{SRGAN}.png"), "--json"]) == 0
    cli_psnr = json.loads(capsys.readouterr().out)["results"][0]["psnr_db"]
    assert abs(shown_psnr - cli_psnr) <= 0.005 + 1e-9, (shown_psnr, cli_psnr)
    assert 20 < shown_psnr < 35            # SRGAN on a real LR input, not the ground truth against itself
    lr_row = next(r for r in range(table.rowCount()) if "bicubic ×1/4" in table.item(r, 0).text())
    assert table.item(lr_row, 1).text() == "—" and "not a result" in table.item(lr_row, 3).text()
