"""Worst regions: the windows with the largest mean error, disjoint, on the reference grid."""

from __future__ import annotations

import numpy as np
import pytest

from isp_viewer.core.region import Region
from isp_viewer.matrix.regions import error_image, worst_windows


def test_planted_errors_are_found_worst_first_and_disjoint():
    err = np.zeros((96, 128))
    err[40:56, 80:96] = 1.0     # the worst: a 16x16 blob of error 1
    err[0:16, 0:16] = 0.5       # second
    err[90:96, 0:8] = 0.2       # at the border: found because the last window touches the edge
    found = worst_windows(err, 16, 3, offset=(10, 20))
    assert [r.region for r in found[:2]] == [Region(90, 60, 16, 16), Region(10, 20, 16, 16)]
    assert found[0].value == 1.0 and found[1].value == 0.5
    assert found[2].region.y == 20 + 80 and found[2].region.x == 10
    assert [r.rank for r in found] == [0, 1, 2]
    boxes = [r.region for r in found]
    assert all(a.intersect(b).empty for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_window_larger_than_image_is_the_whole_image_and_errors_have_their_sign():
    rng = np.random.default_rng(0)
    ref = rng.uniform(0, 1, (20, 30, 3)).astype(np.float32)
    test = ref.copy()
    test[5:10, 5:10] += 0.1
    (only,) = worst_windows(error_image(test, ref, "absolute"), 64, 4)
    assert only.region == Region(0, 0, 30, 20)
    assert only.value == pytest.approx(float(np.abs(test - ref).astype(np.float64).mean()), rel=1e-6)
    ssim_err = error_image(test, ref, "ssim")
    assert ssim_err[7, 7] > 0.01 and abs(ssim_err[18, 27]) < 1e-6
