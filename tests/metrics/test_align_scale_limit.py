"""Scale factors between an output and its reference: integer, and at most x8 unless asked for."""

from __future__ import annotations

import numpy as np
import pytest

from isp_viewer.core.errors import InputError
from isp_viewer.metrics.align import MAX_SCALE, align_to_reference


def test_one_pixel_against_500_is_refused_with_both_sizes():
    with pytest.raises(InputError, match=r"1x1, 1/500 of the 500x500 reference.*--max-scale 500"):
        align_to_reference(np.full((1, 1, 3), 0.5, np.float32), np.full((500, 500, 3), 0.5, np.float32))
    with pytest.raises(InputError, match=r"5000x5000, x10 of the 500x500"):
        align_to_reference(np.zeros((5000, 5000, 1), np.float32), np.zeros((500, 500, 1), np.float32))


def test_large_factor_allowed_when_asked_and_x8_by_default():
    ref = np.random.default_rng(0).random((40, 40, 3)).astype(np.float32)
    al = align_to_reference(ref[::10, ::10], ref, max_scale=10)
    assert al.image.shape == ref.shape and "1/10" in al.note
    assert MAX_SCALE == 8
    assert align_to_reference(ref[::8, ::8], ref).image.shape == ref.shape


@pytest.mark.parametrize("size", [(1, 3), (3, 500), (250, 499), (1000, 500)])
def test_sizes_that_are_not_an_integer_scale_name_both(size):
    ref = np.zeros((500, 500, 3), np.float32)
    with pytest.raises(InputError) as info:
        align_to_reference(np.zeros((*size, 3), np.float32), ref)
    msg = str(info.value)
    assert f"{size[1]}x{size[0]}" in msg and "500x500" in msg
