"""Mapping outputs of another size onto the reference grid."""

import numpy as np
import pytest

from isp_viewer.core.errors import InputError
from isp_viewer.core.region import Region
from isp_viewer.metrics import align_to_reference


def _img(h, w, c=3, seed=0):
    return np.random.default_rng(seed).random((h, w, c), dtype=np.float32)


def test_same_size_is_untouched():
    ref = _img(20, 30)
    out = _img(20, 30, seed=1)
    a = align_to_reference(out, ref)
    assert a.image is out and a.reference is ref
    assert a.region == Region(0, 0, 30, 20) and a.note == ""


def test_exact_integer_upscale_is_block_averaged():
    ref = _img(10, 12)
    out = np.repeat(np.repeat(ref, 4, axis=0), 4, axis=1)
    out[0, 0] += 0.16  # one sub-pixel changes its block mean by 0.01
    a = align_to_reference(out, ref)
    assert a.image.shape == ref.shape
    expected = ref.copy()
    expected[0, 0] += 0.01
    assert np.allclose(a.image, expected, atol=1e-6)
    assert "x4" in a.note


def test_exact_integer_downscale_is_repeated():
    small = _img(5, 6)
    ref = _img(15, 18, seed=2)
    a = align_to_reference(small, ref)
    assert a.image.shape == ref.shape
    assert np.array_equal(a.image[3:6, 6:9], np.broadcast_to(small[1, 2], (3, 3, 3)))


def test_scale_that_is_not_exact_is_an_error():
    with pytest.raises(InputError, match="not an exact x4"):
        align_to_reference(_img(40, 48), _img(10, 11))
    with pytest.raises(InputError, match="1/2"):
        align_to_reference(_img(5, 6), _img(10, 13))


def test_valid_border_output_is_centre_cropped():
    ref = _img(100, 120)
    out = ref[6:94, 4:116] + np.float32(0.0)  # a network that lost 6 / 4 px per side
    a = align_to_reference(out, ref)
    assert a.region == Region(4, 6, 112, 88)
    assert np.array_equal(a.reference, ref[6:94, 4:116])
    assert np.array_equal(a.image, out)
    assert "centre-cropped" in a.note


def test_padded_output_is_centre_cropped_to_the_reference():
    ref = _img(50, 60)
    out = np.pad(ref, ((2, 2), (3, 3), (0, 0)), mode="reflect")
    a = align_to_reference(out, ref)
    assert a.region == Region(0, 0, 60, 50)
    assert np.array_equal(a.image, ref)


def test_unrelated_sizes_are_an_error():
    with pytest.raises(InputError, match="height"):
        align_to_reference(_img(70, 100), _img(100, 100))


def test_grey_and_uint8_inputs():
    ref = (np.arange(64, dtype=np.uint8).reshape(8, 8))
    a = align_to_reference(ref, ref)
    assert a.image.shape == (8, 8, 1) and a.image.dtype == np.float32
    assert a.image[0, 1, 0] == pytest.approx(1 / 255)
