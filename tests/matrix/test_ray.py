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
