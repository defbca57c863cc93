"""Running the matrix locally: values equal direct calls, resumes compute only what is missing,
a changed method value recomputes only its column, a SIGKILLed run resumes to the same table."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from concurrent.futures import CancelledError
from pathlib import Path

import numpy as np
import pytest

from isp_viewer.io.develop import classical_demosaic
from isp_viewer.io.images import read_image, simulate_mosaic
from isp_viewer.matrix import (
    LocalBackend,
    MatrixSpec,
    Method,
    RegionSpec,
    ResultStore,
    cell_regions,
    evaluate_recipe,
    items_from_pairs,
    list_cells,
    metric_table,
    network_method,
    run_matrix,
)
from isp_viewer.metrics import ISP_PAPER, match_by_name, psnr_ssim
from tests.matrix.synthetic import write_set

REPO = Path(__file__).resolve().parents[2]


WORST = (RegionSpec("absolute", 32, 3),)


def make_spec(folder, tile=512, regions=WORST) -> MatrixSpec:
    items = items_from_pairs(match_by_name(folder, folder), "GRBG")
    methods = (Method("classical", "bilinear"), Method("classical", "malvar"),
               network_method("demosaicnet_bayer", tile_size=tile))
    return MatrixSpec(items, methods, ("PSNR", "SSIM"), ISP_PAPER, regions)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_set(tmp_path_factory.mktemp("matrix") / "set", n=3)


@pytest.fixture(scope="module")
def backend():
    b = LocalBackend("cpu")
    yield b
    b.close()


def test_values_equal_direct_metric_calls_and_networks_load_once(folder, tmp_path, backend):
    spec = make_spec(folder)
    with ResultStore(tmp_path / "r.db") as store:
        summary = run_matrix(spec, store, backend)
        table = metric_table(spec, store)
        assert len(summary.computed) == 9 and summary.cells_computed == 18
        ref = read_image(folder / "img1.png")
        want = psnr_ssim(classical_demosaic(simulate_mosaic(ref, "GRBG"), "malvar").rgb(), ref.rgb(), ISP_PAPER)
        assert table.value("malvar", "img1", "PSNR") == want.psnr
        assert table.value("malvar", "img1", "SSIM") == want.ssim
        assert table.mean("demosaicnet_bayer", "PSNR") > table.mean("malvar", "PSNR") > table.mean("bilinear", "PSNR")
        assert backend.worker.network_loads == 1 and backend.worker.engine.networks_loaded == 1
        rows = list_cells(spec, store)
        assert len(rows) == 18 and {r.method for r in rows} == {"bilinear", "malvar", "demosaicnet_bayer"}
        regions = cell_regions(spec, store, rows[0].task_key)
        assert len(regions) == 3 and regions[0].value >= regions[1].value >= regions[2].value
        assert all(r.region.w == 32 and r.region.x1 <= 128 and r.region.y1 <= 96 for r in regions)


def test_second_run_computes_nothing_and_a_changed_option_only_its_column(folder, tmp_path, backend):
    spec = make_spec(folder)
    with ResultStore(tmp_path / "r.db") as store:
        run_matrix(spec, store, backend)
        first = metric_table(spec, store)
        again = run_matrix(spec, store, backend)
        assert again.computed == () and again.cells_computed == 0
        changed = make_spec(folder, tile=64)   # demosaicnet's tile side is part of its method value
        summary = run_matrix(changed, store, backend)
        assert sorted(summary.computed) == sorted((f"img{i}", "demosaicnet_bayer") for i in range(3))
        second = metric_table(changed, store)
        np.testing.assert_array_equal(second.values[:2], first.values[:2])     # classical columns: the same cells
        np.testing.assert_allclose(second.values[2], first.values[2], rtol=1e-5)   # tiles blend seamlessly
        more = make_spec(folder, regions=(RegionSpec("absolute", 32, 3), RegionSpec("ssim", 16, 2)))
        assert len(run_matrix(more, store, backend).computed) == 9   # a new region search runs every task


def test_cancel_stops_between_tasks_and_keeps_what_finished(folder, tmp_path, backend):
    spec = make_spec(folder)
    stop = threading.Event()
    seen = []

    def progress(p):
        seen.append(p.done)
        if p.done == 2:
            stop.set()

    with ResultStore(tmp_path / "r.db") as store:
        with pytest.raises(CancelledError):
            run_matrix(spec, store, backend, progress=progress, cancel=stop)
        assert seen == [1, 2] and store.count("tasks") == 2
        assert len(run_matrix(spec, store, backend).computed) == 7


def test_evaluate_recipe_is_the_matrix(folder):
    pairs = match_by_name(folder, folder)
    table = evaluate_recipe(pairs, [("classical", "malvar"), ("network", "demosaicnet_bayer")], ISP_PAPER,
                            simulate_cfa="GRBG")
    assert table.methods == ("malvar", "demosaicnet_bayer") and table.images == ("img0", "img1", "img2")
    ref = read_image(folder / "img2.png")
    want = psnr_ssim(classical_demosaic(simulate_mosaic(ref, "GRBG"), "malvar").rgb(), ref.rgb(), ISP_PAPER)
    assert table.value("malvar", "img2", "PSNR") == want.psnr


CHILD = """
import sys
from pathlib import Path
from isp_viewer.matrix import ResultStore, run_matrix
from tests.matrix.test_run import make_spec

def progress(p):
    print(p.done, flush=True)
    if p.done == 2:
        sys.stdin.readline()   # hold here, mid-matrix, until the parent kills this process

with ResultStore(sys.argv[2]) as store:
    run_matrix(make_spec(Path(sys.argv[1])), store, progress=progress)
"""


def test_sigkilled_run_resumes_to_the_uninterrupted_table(folder, tmp_path, backend):
    db = tmp_path / "killed.db"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(folder), str(db)], cwd=REPO, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        lines = [child.stdout.readline().strip() for _ in range(2)]
        assert lines == ["1", "2"], child.stderr.read()
    finally:
        child.send_signal(signal.SIGKILL)
        child.communicate()   # reaps it and closes the pipes
    assert child.returncode == -signal.SIGKILL
    spec = make_spec(folder)
    with ResultStore(db) as store:
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert store.count("tasks") == 2 and store.count("cells") == 4
        resumed = run_matrix(spec, store, backend)
        assert len(resumed.computed) == 7
        killed_then_resumed = metric_table(spec, store)
    with ResultStore(tmp_path / "straight.db") as store:
        run_matrix(spec, store, backend)
        straight = metric_table(spec, store)
    np.testing.assert_array_equal(killed_then_resumed.values, straight.values)
    assert killed_then_resumed.to_csv() == straight.to_csv()
