"""The Ray backend on a local Ray instance started here: the same table as the local backend,
one network load per actor, results streamed into the same store."""

from __future__ import annotations

import numpy as np
import pytest

from isp_viewer.matrix import LocalBackend, ResultStore, metric_table, run_matrix
from tests.matrix.synthetic import write_set
from tests.matrix.test_run import make_spec

ray = pytest.importorskip("ray", reason="ray is not installed (the optional extra isp-viewer[ray])")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    yield ray
    ray.shutdown()


def test_ray_and_local_backends_give_identical_tables(local_ray, tmp_path):
    from isp_viewer.matrix.ray_backend import RayBackend

    folder = write_set(tmp_path / "set", n=3)
    spec = make_spec(folder)
    local = LocalBackend("cpu")
    try:
        with ResultStore(tmp_path / "local.db") as store:
            run_matrix(spec, store, local)
            want = metric_table(spec, store)
    finally:
        local.close()
    backend = RayBackend("auto")
    try:
        assert len(backend.actors) == 1   # one node without GPUs: one CPU actor
        seen = []
        with ResultStore(tmp_path / "ray.db") as store:
            summary = run_matrix(spec, store, backend, progress=lambda p: seen.append(p.cells_stored))
            got = metric_table(spec, store)
            assert store.count("tasks") == 9
        assert summary.backend == "ray" and len(summary.computed) == 9
        assert seen == [2 * k for k in range(1, 10)]   # stored one task at a time as they arrived
        assert backend.network_loads() == [1]
    finally:
        backend.close()
    assert local_ray.is_initialized()   # a cluster the backend did not start is left running
    np.testing.assert_array_equal(got.values, want.values)
    assert got.to_csv() == want.to_csv()


def _flaky_worker_factory(marks):
    """Workers whose first run of each task fails: img0 kills its actor, the others raise."""
    from pathlib import Path

    from isp_viewer.matrix.worker import Worker

    class Flaky(Worker):
        def run(self, task, cancel=None):
            mark = Path(marks) / f"{task.item.stem}-{task.method.name}"
            if not mark.exists():
                mark.touch()
                if task.item.stem == "img0":
                    import os

                    os._exit(1)   # the actor process dies: Ray restarts it and retries the task
                raise RuntimeError("transient failure")
            return super().run(task, cancel)

    return Flaky


def test_failed_tasks_are_retried_and_user_errors_stop_the_run(local_ray, tmp_path):
    from isp_viewer.core.errors import InputError
    from isp_viewer.matrix import MatrixSpec, Method, items_from_pairs
    from isp_viewer.matrix.ray_backend import RayBackend
    from isp_viewer.metrics import ISP_PAPER, match_by_name

    folder = write_set(tmp_path / "set", n=2)
    items = items_from_pairs(match_by_name(folder, folder), "GRBG")
    spec = MatrixSpec(items, (Method("classical", "malvar"),), ("PSNR",), ISP_PAPER)
    (tmp_path / "marks").mkdir()
    backend = RayBackend("auto", worker_factory=_flaky_worker_factory(str(tmp_path / "marks")))
    try:
        with ResultStore(tmp_path / "r.db") as store:
            summary = run_matrix(spec, store, backend)
            assert sorted(summary.computed) == [("img0", "malvar"), ("img1", "malvar")]
            assert sorted(m.name for m in (tmp_path / "marks").iterdir()) == ["img0-malvar", "img1-malvar"]
            flaky = metric_table(spec, store)
        with ResultStore(tmp_path / "local.db") as store:
            run_matrix(spec, store, LocalBackend("cpu"))
            np.testing.assert_array_equal(flaky.values, metric_table(spec, store).values)
        bad = MatrixSpec(items_from_pairs(match_by_name(folder, folder)), (Method("classical", "malvar"),),
                         ("PSNR",), ISP_PAPER)   # no CFA simulation: an RGB image has nothing to demosaick
        with ResultStore(tmp_path / "bad.db") as store, pytest.raises(InputError, match="demosaicks a mosaic"):
            run_matrix(bad, store, backend)
    finally:
        backend.close()
