"""Dataset mode: pairs by name, the same methods on every image, the table over the set."""

from __future__ import annotations

import pytest

from isp_viewer.core.methods import NetworkMethod
from isp_viewer.io.develop import classical_demosaic
from isp_viewer.io.images import read_image, simulate_mosaic
from isp_viewer.metrics import ISP_PAPER, psnr_ssim
from tests.ui.conftest import wait_idle


@pytest.fixture
def small_set(tmp_path, data):
    """Three Kodak crops as inputs, the same files as references with a _GT suffix."""
    import cv2

    ins, refs = tmp_path / "in", tmp_path / "gt"
    ins.mkdir()
    refs.mkdir()
    for name in ("kodim03", "kodim19", "kodim23"):
        img = cv2.imread(str(data / f"paired/kodak24/{name}.png"))[100:196, 100:228]
        cv2.imwrite(str(ins / f"{name}.png"), img)
        cv2.imwrite(str(refs / f"{name}_GT.png"), img)
    return ins, refs


def test_dataset_steps_and_table_equals_per_image_metrics(window, qtbot, small_set):
    win = window
    ins, refs = small_set
    assert win.open_dataset(str(ins), str(refs), "GRBG") == 3
    wait_idle(qtbot, win, timeout=120000)
    labels = sorted(i.label.split(" · ")[0] for i in win.session.items.values())
    assert labels[0].startswith("Bilinear") or "kodim03" in " ".join(labels)
    win.step_dataset(+1)
    wait_idle(qtbot, win, timeout=120000)
    assert any("kodim19" in i.label for i in win.session.items.values())
    # keep two classical methods only (fast), then compute the table over the set
    for item in list(win.session.items.values()):
        if isinstance(item.method, NetworkMethod):
            win.session.remove_item(item.id)
    win.compute_dataset_table()
    qtbot.waitUntil(lambda: getattr(win, "dataset_result", None) is not None, timeout=120000)
    table = win.dataset_result
    assert set(table.methods) == {"bilinear", "malvar"} and len(table.images) == 3
    ref = read_image(refs / "kodim23_GT.png")
    want = psnr_ssim(classical_demosaic(simulate_mosaic(read_image(ins / "kodim23.png"), "GRBG"), "malvar").rgb(),
                     ref.rgb(), ISP_PAPER)
    assert table.value("malvar", "kodim23", "PSNR") == pytest.approx(want.psnr, abs=1e-6)
    assert {r.label for r in win.analysis.rows} == {"bilinear", "malvar"}
